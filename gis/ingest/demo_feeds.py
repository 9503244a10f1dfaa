"""The rows of each SYNTHETIC demo feed (see demo_data.py), drawn from one seeded generator in a fixed order."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from gis.ingest.demo_data import DAY, LOCKDOWN_DAY, SEED_COMMUNES, RampPoint, _Generator

VACCINE_MIX = {
    7: {"AstraZeneca": 0.6, "Vero Cell": 0.2, "Pfizer": 0.1, "Moderna": 0.1},
    8: {"AstraZeneca": 0.4, "Vero Cell": 0.3, "Pfizer": 0.2, "Moderna": 0.1},
    9: {"Pfizer": 0.35, "Vero Cell": 0.3, "AstraZeneca": 0.25, "Moderna": 0.1},
}
SECOND_DOSE_DAYS = {"AstraZeneca": (56, 84), "Pfizer": (21, 28), "Moderna": (28, 35), "Vero Cell": (21, 28)}
VENUE_KINDS = ["Chợ", "Siêu thị", "Trường học", "Cơ quan", "Quán ăn", "Khác"]
DEFECTS = ("typo_code", "blank_date", "sea_point", "month_first")
# Communes vaccinated at the real volume (the published coverage of adults, demo_ramp.yml): An Bình, an industrial
# ward of Biên Hòa. The rest get a small share of it, so the feed stays a size a workbook can carry (~100,000 rows).
FULL_COVERAGE_COMMUNES = ["26050"]
# Adults by age group (birth years in 2021) as shares of the population: the 2019 census shares the stats stage
# divides coverage by (share_65plus; share_50plus − share_65plus; share_18plus − share_50plus).
ADULT_AGES = {(1930, 1956): 0.077, (1957, 1971): 0.151, (1972, 2003): 0.485}
ADULT_SHARE = sum(ADULT_AGES.values())
BACKGROUND_FIRST_DOSES = 40_000  # first doses in all the other communes together, at scale 1
# Check-ins: how many people check in at a venue of each kind (as the venues feed spells it), relative to a school.
VENUE_WEIGHT = {
    "Chợ": 3.0,
    "Siêu thị": 2.5,
    "Quán ăn": 1.5,
    "Khu công nghiệp": 6.0,
    "Trường học": 1.0,
    "Cơ quan": 0.8,
    "Khác": 0.7,
}
F0_OUT_IN_WINDOW, F0_OUT_BEFORE = 0.85, 0.25  # a community case out at a venue on each of the 2 days before / earlier
COMPANIONS, COMPANIONS_MAX = 1.4, 30.0  # others around an F0 check-in: mean per unit of venue weight, and a cap
COMPANION_MINUTES = 90  # they check in up to this long before or after the F0 (tracing's ±60 takes most of them)


class DemoFeeds:
    """Cases and their contacts are drawn first (they link feeds); each feed then yields its rows.

    A person who appears in several feeds as the same person (an F1 who later tests positive and becomes a case, a
    case's tests, a contact's test, a recovered case's vaccination) is written with the same identifier, so the
    feeds link through person_key: the ID card number, but the phone number for a case found in the community, as
    PC-Covid check-ins know everyone (so tracing finds the case's check-ins).
    """

    def __init__(self, g: _Generator, outbreak: np.ndarray, ramp: list[RampPoint]):
        self.g, self.rng, self.areas = g, g.rng, g.areas
        self.outbreak = outbreak
        self.ramp = ramp
        self.lockdown = g.opt.start + dt.timedelta(days=LOCKDOWN_DAY)
        self._facilities = self._draw_facilities()
        self._venues = self._draw_venues()
        self.case_list: list[dict] = []
        self.contacts: list[dict] = []
        self._draw_cases()

    # --- drawing ---------------------------------------------------------------------------------------------
    def _draw_facilities(self) -> list[dict]:
        g, out = self.g, []
        by_district = defaultdict(list)
        for c in self.areas.communes:
            by_district[self.areas.district[c]].append(c)
        capital = self.areas.district.get(SEED_COMMUNES[0]) or next(iter(by_district))

        def add(fid, kind, name, commune, tier="", beds=0, icu=0, rooms=0):
            occupied = int(self.rng.integers(0, max(beds, rooms) + 1)) if beds or rooms else ""
            out.append(
                {
                    "id": fid,
                    "kind": kind,
                    "name": name,
                    "commune": commune,
                    "tier": tier,
                    "beds": beds or "",
                    "icu": icu or "",
                    "rooms": rooms or "",
                    "occupied": occupied,
                }
            )

        for d, communes in sorted(by_district.items()):
            for k in (1, 2):
                add(
                    f"CS-{d}-T1-{k}",
                    "Cơ sở điều trị",
                    f"Bệnh viện dã chiến số {k} – huyện {d} (synthetic)",
                    communes[(k * 3) % len(communes)],
                    1,
                    int(self.rng.integers(150, 600)),
                )
            add(
                f"CS-{d}-T2",
                "Cơ sở điều trị",
                f"Trung tâm Y tế huyện {d} (synthetic)",
                communes[0],
                2,
                int(self.rng.integers(80, 250)),
                int(self.rng.integers(5, 20)),
            )
            for k in (1, 2):
                add(
                    f"CS-{d}-CL-{k}",
                    "Khu cách ly tập trung",
                    f"Khu cách ly tập trung số {k} – {d} (synthetic)",
                    communes[(k * 5) % len(communes)],
                    rooms=int(self.rng.integers(100, 500)),
                )
        for k in (1, 2):
            add(
                f"CS-{capital}-T3-{k}",
                "Cơ sở điều trị",
                f"Bệnh viện tuyến tỉnh số {k} (synthetic)",
                by_district[capital][k],
                3,
                int(self.rng.integers(300, 800)),
                int(self.rng.integers(30, 80)),
            )
        for c in self.areas.communes:
            add(f"XN-{c}", "Điểm xét nghiệm", f"Điểm xét nghiệm {self.areas.name[c]} (synthetic)", c)
            add(f"TC-{c}", "Điểm tiêm", f"Điểm tiêm {self.areas.name[c]} (synthetic)", c)
            add(f"HH-{c}", "Điểm cung ứng hàng thiết yếu", f"Điểm bán hàng {self.areas.name[c]} (synthetic)", c)
        for f in out:
            f["where"] = g.where(f["commune"], point_share=0.6)
        return out

    def _draw_venues(self) -> dict[str, list[str]]:
        venues: dict[str, list[str]] = {}
        self._venue_rows = []
        for c in self.areas.communes:
            n = int(self.rng.integers(3, 9))
            ids = [f"QR-{c}-{k:02d}" for k in range(n)]
            venues[c] = ids
            for k, vid in enumerate(ids):
                kind = "Khu công nghiệp" if c in SEED_COMMUNES and k == 0 else VENUE_KINDS[k % len(VENUE_KINDS)]
                self._venue_rows.append(
                    [vid, f"{kind} {self.areas.name[c]} {k + 1} (synthetic)", kind, *self.g.where(c, point_share=0.8)]
                )
        return venues

    def _treatment(self, district: str, tier: int) -> str:
        ids = [f["id"] for f in self._facilities if f["tier"] == tier and f["id"].startswith(f"CS-{district}-")]
        ids = ids or [f["id"] for f in self._facilities if f["tier"] == tier]
        return ids[int(self.rng.integers(0, len(ids)))]

    def _draw_cases(self) -> None:
        g, areas, rng = self.g, self.areas, self.rng
        f1_pool: dict[str, list[dict]] = defaultdict(list)
        end = g.days[-1]
        for t, day in enumerate(g.days):
            for ci in np.nonzero(self.outbreak[t])[0]:
                commune = areas.communes[ci]
                for _ in range(int(self.outbreak[t, ci])):
                    pool = [
                        p for p in f1_pool[commune] if 2 <= (day - p["since"]).days <= 12 and not p.get("became_case")
                    ]
                    from_f1 = bool(pool) and rng.random() < 0.3
                    if from_f1:
                        contact = pool[int(rng.integers(0, len(pool)))]
                        contact["became_case"] = True  # a contact becomes at most one case
                        person = contact["person"]
                    else:
                        ages = [rng.integers(1950, 1970), rng.integers(1970, 2004), rng.integers(2004, 2020)]
                        person = g.person(int(rng.choice(ages, p=[0.2, 0.65, 0.15])))
                        # Found in the community: the register writes the phone they use with PC-Covid, so their own
                        # check-ins trace back to them (a former F1 keeps the ID card of their quarantine stay).
                        person["by_phone"] = True
                    age = day.year - person["year"]
                    status = rng.choice(
                        ["Điều trị tại nhà", "Bệnh viện dã chiến", "Bệnh viện", "Hồi sức tích cực"],
                        p=[0.5, 0.35, 0.12, 0.03] if age < 60 else [0.2, 0.35, 0.3, 0.15],
                    )
                    if (end - day).days > 14:
                        died = rng.random() < (0.004 if age < 60 else 0.04)
                        status = "Tử vong" if died else ("Khỏi bệnh" if rng.random() < 0.9 else status)
                    district = areas.district[commune]
                    tier = {"Bệnh viện dã chiến": 1, "Bệnh viện": 2, "Hồi sức tích cực": 3}.get(status)
                    industrial = commune in SEED_COMMUNES and day < self.lockdown
                    case = {
                        "id": f"BN-{len(self.case_list) + 1:06d}",
                        "person": person,
                        "commune": commune,
                        "t": t,
                        "day": day,
                        "from_f1": from_f1,
                        "industrial": industrial,
                        "status": status,
                        "facility": self._treatment(district, tier) if tier else "",
                        "where": g.where(commune),
                        "contacts": [],
                    }
                    self.case_list.append(case)
                    for _ in range(int(rng.integers(1, 5))):
                        contact = {
                            "person": g.person(),
                            "since": day,
                            "case": case,
                            "commune": commune if rng.random() < 0.7 else self._neighbour(commune),
                        }
                        self.contacts.append(contact)
                        case["contacts"].append(contact)
                        f1_pool[contact["commune"]].append(contact)

    def _neighbour(self, commune: str) -> str:
        i = self.areas.communes.index(commune)
        near = np.nonzero(self.areas.adjacency[i])[0]
        return self.areas.communes[int(near[self.rng.integers(0, len(near))])] if len(near) else commune

    def _register_id(self, person: dict) -> str:
        """The person as a register writes them: a case found in the community by the phone number they use with
        PC-Covid (its check-ins are theirs: tracing links them), everyone else by ID card. One draw either way, as
        id_text makes, so the feeds after it draw the same."""
        if not person.get("by_phone"):
            return self.g.id_text(person)
        p = person["phone"]
        return f"{p[:4]} {p[4:7]} {p[7:]}" if self.rng.random() < 0.1 else p

    def _time(self, day: dt.date, first: int = 7, last: int = 17) -> dt.datetime:
        minutes = int(self.rng.integers(first * 60, last * 60))
        return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60))

    # --- feeds ------------------------------------------------------------------------------------------------
    def facilities(self) -> Iterator[list]:
        for f in self._facilities:
            yield [
                f["id"],
                f["kind"],
                f["name"],
                f["tier"],
                f["beds"],
                f["icu"],
                f["rooms"],
                f["occupied"],
                *f["where"],
            ]

    def venues(self) -> Iterator[list]:
        yield from self._venue_rows

    def cases(self) -> Iterator[list]:
        for c in self.case_list:
            p = c["person"]
            if c["from_f1"]:
                found, known, cluster, setting = "Khu cách ly", "Có", f"OD-{c['commune']}-F1", ""
            else:
                found = "Khu phong tỏa" if self.rng.random() < 0.15 else "Cộng đồng"
                known = "Có" if c["industrial"] or self.rng.random() < 0.4 else "Không"
                cluster = (
                    f"OD-{c['commune']}-KCN"
                    if c["industrial"]
                    else (f"OD-{c['commune']}-{c['day']:%W}" if known == "Có" else "")
                )
                setting = (
                    "Khu công nghiệp"
                    if c["industrial"]
                    else (self.rng.choice(["Chợ", "Siêu thị", "Khác"]) if cluster else "")
                )
            yield [
                c["id"],
                self._register_id(p),
                p["year"],
                p["sex"],
                c["day"].strftime(DAY),
                found,
                known,
                cluster,
                setting,
                *c["where"],
                c["status"],
                c["facility"],
            ]

    def tests(self) -> Iterator[list]:
        g, rng = self.g, self.rng
        serial = 0

        def row(person, when: dt.datetime, positive: bool, commune: str, pcr: bool, by_id: bool = False) -> list:
            nonlocal serial
            serial += 1
            result_at = when + (dt.timedelta(hours=int(rng.integers(4, 30))) if pcr else dt.timedelta(minutes=20))
            pending = pcr and result_at.date() > g.days[-1]
            out = [
                f"XN-{serial:07d}",
                self._register_id(person) if by_id or rng.random() < 0.7 else g.phone_text(person),
                when.strftime("%d/%m/%Y %H:%M"),
                "RT-PCR" if pcr else "Test nhanh",
                "Có" if pcr and not positive and rng.random() < 0.4 else "Không",
                "Chờ kết quả" if pending else ("Dương tính" if positive else "Âm tính"),
                "" if pending else result_at.strftime("%d/%m/%Y %H:%M"),
                f"LAB-{commune[:3]}",
                *g.where(commune),
            ]
            return self._defect(out, date_col=2, code_col=8) if rng.random() < 0.003 else out

        for c in self.case_list:
            yield row(c["person"], self._time(c["day"]), True, c["commune"], rng.random() < 0.7, by_id=True)
            for k in range(int(rng.integers(3, 10))):
                day = c["day"] + dt.timedelta(days=int(rng.integers(0, 4)))
                if day > g.days[-1]:
                    continue
                if k < len(c["contacts"]):  # the case's F1 first, under the ID card of their quarantine stay
                    contact = c["contacts"][k]
                    yield row(
                        contact["person"], self._time(day), False, contact["commune"], rng.random() < 0.4, by_id=True
                    )
                else:
                    yield row(g.person(), self._time(day), False, c["commune"], rng.random() < 0.4)
        weights = self.areas.population
        for day in g.days:
            for _ in range(rng.poisson(150 * g.opt.scale)):
                yield row(g.person(), self._time(day), rng.random() < 0.002, g.commune(weights), rng.random() < 0.3)

    def _defect(self, row: list, date_col: int, code_col: int) -> list:
        kind = DEFECTS[int(self.rng.integers(0, len(DEFECTS)))]
        if kind == "typo_code" and row[code_col]:
            row[code_col] = row[code_col].replace("0", "O", 1)
        elif kind == "blank_date":
            row[date_col] = ""
        elif kind == "sea_point":
            row[code_col : code_col + 3] = ["", "107.350000", "10.250000"]
        elif kind == "month_first":
            d = row[date_col]
            row[date_col] = f"{d[3:5]}/{d[0:2]}{d[5:]}" if len(d) >= 10 and int(d[0:2]) > 12 else d
        return row

    def _first_doses(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """First doses per day: each full-coverage commune's from the cited curve (cumulative coverage × its adults,
        so its coverage is the curve's), and the others' total in the same shape."""
        g = self.g
        known = [p.date.toordinal() for p in self.ramp], [p.coverage for p in self.ramp]
        days = [d.toordinal() for d in [g.days[0] - dt.timedelta(days=1), *g.days]]
        curve = np.interp(days, *known)  # flat before the first point and after the last
        full = [c for c in FULL_COVERAGE_COMMUNES if c in self.areas.communes] or [
            self.areas.communes[int(np.argmin(self.areas.population))]
        ]
        per_commune = {}
        for c in full:
            adults = self.areas.population[self.areas.communes.index(c)] * ADULT_SHARE * g.opt.scale
            per_commune[c] = np.diff(np.round(adults * curve)).astype(int)
        shape = np.diff(curve)
        background = self.rng.poisson(BACKGROUND_FIRST_DOSES * g.opt.scale * shape / max(curve[-1], 1e-9))
        return per_commune, background

    def _adult_birth_year(self) -> int:
        """An adult's birth year, age groups in their census shares (so no group's coverage runs ahead of another's)."""
        groups = list(ADULT_AGES)
        first, last = groups[int(self.rng.choice(len(groups), p=np.array(list(ADULT_AGES.values())) / ADULT_SHARE))]
        return int(self.rng.integers(first, last + 1))

    def vaccinations(self) -> Iterator[list]:
        g, rng = self.g, self.rng
        full, background = self._first_doses()
        weights = self.areas.population * [c not in full for c in self.areas.communes]
        due: dict[dt.date, list[tuple[dict, str, str]]] = defaultdict(list)
        # Cases after their isolation and contacts after their quarantine are vaccinated too, under the same ID.
        released: dict[dt.date, list[tuple[dict, str]]] = defaultdict(list)
        for c in self.case_list:
            if c["status"] != "Tử vong":
                released[c["day"] + dt.timedelta(days=14)].append((c["person"], c["commune"]))
        for c in self.contacts:
            if not c.get("became_case"):
                released[c["since"] + dt.timedelta(days=14)].append((c["person"], c["commune"]))
        known: list[tuple[dict, str]] = []
        serial = 0
        for t, day in enumerate(g.days):
            doses: list[tuple[dict, str, str, int]] = [(p, v, c, 2) for p, v, c in due.pop(day, [])]
            known += released.pop(day, [])
            oldest = 1956 if day.month < 8 else (1971 if day.month < 9 else 2003)
            mix = VACCINE_MIX[min(max(day.month, 7), 9)]
            firsts: list[tuple[dict, str]] = [
                (g.person(self._adult_birth_year()), c) for c, n in full.items() for _ in range(int(n[t]))
            ]
            for _ in range(int(background[t])):
                # One first dose in ten goes to a released case or contact, once their age group's turn has come.
                pick = int(rng.integers(0, len(known))) if known and rng.random() < 0.1 else None
                if pick is not None and known[pick][0]["year"] <= oldest and known[pick][1] not in full:
                    known[pick], known[-1] = known[-1], known[pick]  # vaccinated once: out of the pool
                    firsts.append(known.pop())
                else:
                    firsts.append((g.person(int(rng.integers(1930, oldest + 1))), g.commune(weights)))
            for person, commune in firsts:
                vaccine = str(rng.choice(list(mix), p=list(mix.values())))
                low, high = SECOND_DOSE_DAYS[vaccine]
                due[day + dt.timedelta(days=int(rng.integers(low, high + 1)))].append((person, vaccine, commune))
                doses.append((person, vaccine, commune, 1))
            for person, vaccine, commune, dose in doses:
                serial += 1
                yield [
                    f"MT-{serial:07d}",
                    self._register_id(person),
                    person["year"],
                    dose,
                    vaccine,
                    day.strftime(DAY),
                    f"TC-{commune}",
                    *g.where(commune),
                ]

    def quarantine(self) -> Iterator[list]:
        g, rng = self.g, self.rng
        district_of = self.areas.district
        for n, c in enumerate(self.contacts, start=1):
            start = c["since"] + dt.timedelta(days=int(rng.integers(0, 2)))
            at_facility = rng.random() < (0.7 if start < self.lockdown else 0.3)
            facility = f"CS-{district_of[c['commune']]}-CL-{int(rng.integers(1, 3))}" if at_facility else ""
            end = start + dt.timedelta(days=14 if at_facility else 7)
            yield [
                f"CL-{n:07d}",
                g.id_text(c["person"]),
                facility,
                start.strftime(DAY),
                end.strftime(DAY),
                "F1",
                *g.where(c["commune"]),
            ]

    def _popularity(self) -> dict[str, np.ndarray]:
        """Each commune's venues weighted by how many people check in there: a weight per kind (markets and
        industrial zones draw crowds, offices few) times a skewed (log-normal) draw, so a few venues draw most."""
        kind_of = {row[0]: row[2] for row in self._venue_rows}
        return {
            c: np.array([VENUE_WEIGHT[kind_of[v]] for v in ids]) * self.rng.lognormal(0.0, 0.8, len(ids))
            for c, ids in self._venues.items()
        }

    def checkins(self) -> Iterator[dict]:
        """Residents check in at venues near home, the popular ones most. A case found in the community checked in
        at venues on the days before detection (its infectious window: markets, supermarkets, eating places, its
        industrial zone before the lockdown), and around each of those check-ins other people did too: the venues
        and contacts tracing finds. Now and then one of them is a later case of the same commune."""
        g, rng = self.g, self.rng
        serial = 0
        popularity = self._popularity()
        cumulative = {c: np.cumsum(w) / w.sum() for c, w in popularity.items()}
        by_day: dict[int, list[dict]] = defaultdict(list)
        later: dict[str, list[tuple[int, dict]]] = defaultdict(list)  # commune -> (day index, person) of cases
        for c in self.case_list:
            if not c["person"].get("by_phone"):
                continue  # found in quarantine: not out at venues in the days before
            later[c["commune"]].append((c["t"], c["person"]))
            for back in range(1, 5):
                if c["t"] - back < 0 or rng.random() >= (F0_OUT_IN_WINDOW if back <= 2 else F0_OUT_BEFORE):
                    continue
                for _ in range(1 + int(rng.random() < 0.3)):
                    by_day[c["t"] - back].append(c)
        residents: dict[str, list[dict]] = defaultdict(list)

        def resident(commune: str) -> dict:
            people = residents[commune]
            if len(people) < 50 or rng.random() < 0.1:
                people.append(g.person())
            return people[int(rng.integers(0, len(people)))]

        def venue(place: str) -> str:
            k = int(np.searchsorted(cumulative[place], rng.random(), side="right"))
            return self._venues[place][min(k, len(self._venues[place]) - 1)]

        def row(person: dict, venue_id: str, at: dt.datetime) -> dict:
            nonlocal serial
            serial += 1
            return {"id": f"CK{serial:09d}", "phone": g.phone_text(person), "venue": venue_id, "time": at.isoformat()}

        for t, day in enumerate(g.days):
            activity = 0.5 if day >= self.lockdown else 1.0
            for c in by_day.pop(t, []):
                commune = c["commune"]
                if c["industrial"] and rng.random() < 0.7:  # a shift at the commune's industrial zone
                    place, venue_id = commune, self._venues[commune][0]
                else:
                    place = commune if rng.random() < 0.8 else self._neighbour(commune)
                    venue_id = venue(place)
                at = self._time(day, 7, 20)
                yield row(c["person"], venue_id, at)
                weight = popularity[place][self._venues[place].index(venue_id)]
                for _ in range(rng.poisson(min(COMPANIONS_MAX, COMPANIONS * weight * activity))):
                    minutes = int(rng.integers(-COMPANION_MINUTES, COMPANION_MINUTES + 1))
                    person = resident(place)
                    if rng.random() < 0.03:  # a later case of the commune, 3-12 days on: a contact who became F0
                        soon = [p for u, p in later[place] if 3 <= u - t <= 12]
                        person = soon[int(rng.integers(0, len(soon)))] if soon else person
                    yield row(person, venue_id, at + dt.timedelta(minutes=minutes))
            for _ in range(rng.poisson(1200 * g.opt.scale * activity)):
                commune = g.commune(self.areas.population)
                person = resident(commune)
                place = commune if rng.random() < 0.8 else self._neighbour(commune)
                yield row(person, venue(place), self._time(day, 6, 21))

    # --- care and welfare: their own generator, so the seven feeds above stay as they were ----------------------
    def rooms(self) -> Iterator[list]:
        yield from self._care.room_rows

    def admissions(self) -> Iterator[list]:
        yield from self._care.admission_rows()

    def observations(self) -> Iterator[list]:
        yield from self._care.observation_rows()

    def households(self) -> Iterator[list]:
        yield from HouseholdFeed(self).rows()

    def support_teams(self) -> Iterator[list]:
        yield from self._logistics.team_rows

    def meal_contracts(self) -> Iterator[list]:
        yield from self._logistics.meal_rows

    def waste_contracts(self) -> Iterator[list]:
        yield from self._logistics.waste_rows

    @cached_property
    def _logistics(self) -> LogisticsFeeds:
        return LogisticsFeeds(self)

    @cached_property
    def _care(self) -> CareFeeds:
        return CareFeeds(self)


def _own_rng(feeds: DemoFeeds, stream: int) -> np.random.Generator:
    """A generator of its own for one of the later feeds, from the demo's seed: drawing it leaves the shared one be."""
    return np.random.default_rng([feeds.g.opt.seed, stream])


def _as_registered(person: dict) -> str:
    """The person as the case register keys them (demo_feeds' _register_id without its spacing draw): the phone a
    case found in the community uses with PC-Covid, else the ID card; the care and welfare feeds link through it."""
    return person["phone"] if person.get("by_phone") else person["id"]


# Treatment rooms per tier: beds per room (low, high) and each room's sex; quarantine rooms hold 2–4 F1.
ROOM_BEDS = {1: (20, 41), 2: (4, 11), 3: (2, 7)}
ROOM_SEXES = ["m", "f", "any"]
STAFFED = (0.6, 1.0)  # staffed share of a room's beds (a bed without staff is not a free bed)
ADMITTED_RECOVERED = 0.55  # recovered cases treated in a facility (the rest at home)
LATE_LOW_SPO2 = 6  # F0 in tier 1 with a low SpO2 in the period's last two days and not moved yet: open requests
SEX = {"Nam": "m", "Nữ": "f"}
SYMPTOMS = ["Ho", "Sốt nhẹ", "Đau họng", "Mệt mỏi", "Ho, sốt nhẹ", "Nghẹt mũi", "Đau đầu"]


@dataclass
class _Segment:
    """One part of a stay: a person at a facility (a room picked when the segments are replayed) from start to end."""

    case: dict
    facility: str
    start: dt.datetime
    end: dt.datetime | None  # None: still there at the period's end
    close: str = ""  # the event ending it: "" (a move follows, or open), "discharge", "died"
    low_spo2_at: dt.datetime | None = None  # an observation with a low SpO2 (before a move up, or a late one)
    room: str = ""


class CareFeeds:
    """Rooms of the synthetic facilities; admissions of the synthetic cases as stays replayed into rooms within
    their staffed beds; daily observations of each stay, with a low SpO2 before each move up a tier."""

    def __init__(self, feeds: DemoFeeds):
        self.f, self.rng = feeds, _own_rng(feeds, 1)
        self.end = dt.datetime.combine(feeds.g.days[-1], dt.time(23, 0))
        self.facility = {f["id"]: f for f in feeds._facilities}
        self.rooms: dict[str, list[dict]] = defaultdict(list)
        self.room_rows = list(self._draw_rooms())
        self.segments = self._draw_stays()
        self._assign_rooms()

    def _draw_rooms(self) -> Iterator[list]:
        rng = self.rng
        for f in self.f._facilities:
            if f["kind"] == "Cơ sở điều trị":
                low, high = ROOM_BEDS[f["tier"]]
                left, k = int(f["beds"]), 0
                while left > 0:
                    k += 1
                    beds = min(left, int(rng.integers(low, high)))
                    left -= beds
                    self._room(f["id"], f"P{k:03d}", "f0", ROOM_SEXES[k % 3], beds)
                icu = int(f["icu"] or 0)
                for k in range(0, icu, 4):  # intensive care: rooms of four beds
                    self._room(f["id"], f"HSTC-{k // 4 + 1}", "f0", "any", min(4, icu - k))
            elif f["kind"] == "Khu cách ly tập trung":
                for k in range(1, int(f["rooms"]) + 1):
                    self._room(f["id"], f"CL{k:03d}", "f1", ROOM_SEXES[k % 2], int(rng.integers(2, 5)))
        for r in (r for rooms in self.rooms.values() for r in rooms):
            yield [
                r["facility"],
                r["room"],
                {"f0": "F0", "f1": "F1"}[r["kind"]],
                r["sex_text"],
                r["beds"],
                r["staffed"],
            ]

    def _room(self, facility: str, room: str, kind: str, sex: str, beds: int) -> None:
        if beds <= 0:
            return
        staffed = max(1, round(beds * float(self.rng.uniform(*STAFFED))))
        sex_text = {"m": "Nam", "f": "Nữ", "any": "Chung"}[sex]
        self.rooms[facility].append(
            {
                "facility": facility,
                "room": room,
                "kind": kind,
                "sex": sex,
                "sex_text": sex_text,
                "beds": beds,
                "staffed": staffed,
                "until": [],
            }
        )

    def _tier_facility(self, district: str, tier: int) -> str:
        ids = [i for i, f in self.facility.items() if f["tier"] == tier and i.startswith(f"CS-{district}-")]
        ids = ids or [i for i, f in self.facility.items() if f["tier"] == tier]
        return ids[int(self.rng.integers(0, len(ids)))]

    def _at(self, day: dt.date, hours: float) -> dt.datetime:
        """`hours` after 07:00 of `day` (a random minute in the hour), never after the period's last hour."""
        at = dt.datetime.combine(day, dt.time(7)) + dt.timedelta(hours=hours, minutes=int(self.rng.integers(0, 60)))
        return min(at, self.end)

    def _draw_stays(self) -> list[_Segment]:
        """Each case's stay as segments, consistent with the case register: a case in a field hospital, hospital or
        ICU at the end is there still (an ICU case came through a tier-2 hospital, some hospital cases through a
        field hospital); a recovered case treated in a facility was discharged; a case who died, died there."""
        rng, segments = self.rng, []
        late: list[_Segment] = []
        for c in self.f.case_list:
            district = self.f.areas.district[c["commune"]]
            admit = self._at(c["day"], float(rng.uniform(0, 10)))
            status, final = c["status"], c["facility"]
            if status in ("Bệnh viện dã chiến", "Bệnh viện", "Hồi sức tích cực"):
                tier = self.facility[final]["tier"]
                path = [final]
                came_up = tier == 3 or (tier == 2 and rng.random() < 0.4)
                if came_up and self.end - admit > dt.timedelta(days=1):
                    path.insert(0, self._tier_facility(district, tier - 1))
                mine = self._path(c, path, admit, None, "")
                if tier == 1 and rng.random() < 0.2:  # a room change inside the field hospital
                    mine = self._split(mine)
                if tier == 1 and mine[-1].start < self.end - dt.timedelta(days=2):
                    late.append(mine[-1])
                segments += mine
            elif status == "Khỏi bệnh" and rng.random() < ADMITTED_RECOVERED:
                discharge = admit + dt.timedelta(days=int(rng.integers(7, 15)), hours=int(rng.integers(0, 6)))
                path = [self._tier_facility(district, 1)]
                if rng.random() < 0.05:  # moderate for a while: a tier-2 hospital, then home
                    path.append(self._tier_facility(district, 2))
                segments += self._path(c, path, admit, min(discharge, self.end), "discharge")
            elif status == "Tử vong":
                path = [self._tier_facility(district, 2)]
                if rng.random() < 0.5:  # worse: to a provincial tier-3 hospital
                    path.append(self._tier_facility(district, 3))
                died = admit + dt.timedelta(days=int(rng.integers(4, 15)), hours=int(rng.integers(0, 12)))
                segments += self._path(c, path, admit, min(died, self.end), "died")
        for s in late[: int(np.ceil(LATE_LOW_SPO2 * self.f.g.opt.scale))] if late else []:
            s.low_spo2_at = self._at(self.end.date() - dt.timedelta(days=int(rng.integers(0, 2))), 1.0)
        return segments

    def _path(self, case: dict, path: list[str], start: dt.datetime, end: dt.datetime | None, close: str) -> list:
        """Segments through the facilities of `path` from start to end (None: open), moving on at even shares."""
        span = ((end or self.end) - start) / len(path)
        out = []
        for k, facility in enumerate(path):
            s = start + span * k
            e = start + span * (k + 1) if k + 1 < len(path) else end
            out.append(_Segment(case, facility, s, e, close if k + 1 == len(path) else ""))
        for before, after in zip(out, out[1:], strict=False):
            if self.facility[after.facility]["tier"] > self.facility[before.facility]["tier"] and before.end:
                before.low_spo2_at = before.end - dt.timedelta(hours=int(self.rng.integers(2, 7)))
        return out

    def _split(self, segments: list[_Segment]) -> list[_Segment]:
        last = segments[-1]
        end = last.end or self.end
        if end - last.start < dt.timedelta(days=2):
            return segments
        at = last.start + (end - last.start) / 2
        moved = _Segment(last.case, last.facility, at, last.end, last.close, last.low_spo2_at)
        last.end, last.close, last.low_spo2_at = at, "", None
        return [*segments, moved]

    def _assign_rooms(self) -> None:
        """Replay the segments in time order into rooms of their facility: the room of the person's sex (or any)
        with the most free staffed beds at that instant (a move inside a facility goes to another room)."""
        previous: dict[str, str] = {}
        for s in sorted(self.segments, key=lambda s: (s.start, s.case["id"])):
            rooms = [r for r in self.rooms[s.facility] if r["sex"] in ("any", SEX[s.case["person"]["sex"]])]
            for r in rooms:
                r["until"] = [u for u in r["until"] if u is not None and u > s.start or u is None]
            key = f"{s.case['id']}@{s.facility}"
            choices = [r for r in rooms if r["room"] != previous.get(key)] or rooms
            best = max(choices, key=lambda r: (r["staffed"] - len(r["until"]), r["room"]))
            best["until"].append(s.end)
            s.room, previous[key] = best["room"], best["room"]

    def admission_rows(self) -> Iterator[list]:
        by_case: dict[str, list[_Segment]] = defaultdict(list)
        for s in self.segments:
            by_case[s.case["id"]].append(s)
        events = []
        for case_id, segs in by_case.items():
            person = _as_registered(segs[0].case["person"])
            for k, s in enumerate(segs):
                if k == 0:
                    event, reason = "Tiếp nhận", ""
                elif s.facility == segs[k - 1].facility:
                    event, reason = "Chuyển phòng", "Sắp xếp lại phòng (dữ liệu mô phỏng / synthetic)"
                else:
                    tier = self.facility[s.facility]["tier"]
                    event, reason = "Chuyển nơi điều trị", f"Chuyển lên tầng {tier} (dữ liệu mô phỏng / synthetic)"
                    if tier < self.facility[segs[k - 1].facility]["tier"]:
                        reason = f"Chuyển về tầng {tier} (dữ liệu mô phỏng / synthetic)"
                events.append((s.start, case_id, k, person, event, s.facility, s.room, reason))
            last = segs[-1]
            if last.close and last.end is not None:
                closing = {"discharge": "Ra viện", "died": "Tử vong"}[last.close]
                events.append((last.end, case_id, len(segs), person, closing, last.facility, last.room, ""))
        for n, (at, _, _, person, event, facility, room, reason) in enumerate(sorted(events), start=1):
            yield [f"NV-{n:07d}", person, "F0", event, facility, room, at.strftime("%d/%m/%Y %H:%M"), reason]

    def observation_rows(self) -> Iterator[list]:
        """One observation a day of every segment (at 08:00–09:59, inside the segment), vitals as its tier's patients
        show them; the low-SpO2 observation of a segment at its time. Tier 1 stays in class (SpO2 > 96, breathing
        < 20); a tier-2 or tier-3 stay is moderate or severe, so it asks for no tier above its own."""
        rng, rows = self.rng, []
        for s in self.segments:
            person = _as_registered(s.case["person"])
            tier = self.facility[s.facility]["tier"]
            end = s.end or self.end
            day = s.start.date()
            symptoms = SYMPTOMS[int(rng.integers(0, len(SYMPTOMS)))] if rng.random() < 0.6 else ""
            while day <= end.date():
                at = dt.datetime.combine(day, dt.time(8)) + dt.timedelta(minutes=int(rng.integers(0, 120)))
                if s.start <= at < end:
                    rows.append((at, person, self._vitals(tier, symptoms)))
                day += dt.timedelta(days=1)
            if s.low_spo2_at is not None:
                low = [int(rng.integers(86, 94)), int(rng.integers(22, 30)), int(rng.integers(95, 118))]
                rows.append(
                    (
                        s.low_spo2_at,
                        person,
                        [*low, round(float(rng.uniform(37.5, 39.0)), 1), 115, "Có", "Khó thở, mệt nhiều"],
                    )
                )
        rows.sort(key=lambda r: (r[0], r[1]))
        for n, (at, person, vitals) in enumerate(rows, start=1):
            yield [f"TD-{n:07d}", person, at.strftime("%d/%m/%Y %H:%M"), *vitals]

    def _vitals(self, tier: int, symptoms: str) -> list:
        rng = self.rng
        spo2 = {1: (97, 100), 2: (94, 97), 3: (90, 96)}[tier]
        breath = {1: (16, 20), 2: (18, 25), 3: (20, 28)}[tier]
        return [
            int(rng.integers(*spo2)),
            int(rng.integers(*breath)),
            int(rng.integers(70, 101)),
            round(float(rng.uniform(36.4, 37.6)), 1),
            int(rng.integers(105, 136)),
            "Có",
            symptoms,
        ]


# Households: a sample of each hamlet's (one in HOUSEHOLD_SAMPLE of its estimated households, at least
# MIN_HOUSEHOLDS) and one household per case, with the case and up to two of its contacts of the same commune as
# members. The flags' shares are the demo's own draws, not published figures.
MEMBERS_PER_HOUSEHOLD = 3.5  # the demo's assumption for estimating a hamlet's households from its population
HOUSEHOLD_SAMPLE, MIN_HOUSEHOLDS = 50, 2
FLAG_SHARES = {"poor": 0.03, "near_poor": 0.04, "disabled": 0.04, "lost_income": 0.3, "migrant_worker": 0.1}
DOUBLE_LISTED = 8  # members of a case's household listed again in a household of another commune (a migrant worker)
RELATIONS = ["Vợ", "Con", "Con", "Cha", "Mẹ", "Cháu", "Anh", "Em", "Khác"]


class HouseholdFeed:
    """One row per member, the head's row carrying hamlet, size, address and flags (the households feed)."""

    def __init__(self, feeds: DemoFeeds):
        self.f, self.rng = feeds, _own_rng(feeds, 2)
        self.serial = 0

    def _person(self) -> str:
        """A member no other feed names: an ID card of province code 998 (none exists), so never a real number."""
        self.serial += 1
        year = int(self.rng.integers(1935, 2021))
        century = (0 if year < 2000 else 2) + int(self.rng.random() < 0.5)
        return f"998{century}{year % 100:02d}{self.serial:06d}"

    def _hamlet(self, commune: str) -> str:
        hamlets = self.f.areas.hamlets[commune]
        weights = np.array([h[1] for h in hamlets], dtype=float)
        return hamlets[int(self.rng.choice(len(hamlets), p=weights / weights.sum()))][0]

    def _household(self, hid: str, hamlet: str, commune: str, members: list[str], covid: bool) -> list[list]:
        rng = self.rng
        left = [rng.random() < 0.03 and k > 0 for k in range(len(members))]
        size = len(members) - sum(left)
        shares = dict(FLAG_SHARES)
        if commune in SEED_COMMUNES:
            shares["migrant_worker"] = 0.35
        if covid:
            shares["lost_income"] = 0.5
        flags = {flag: rng.random() < share for flag, share in shares.items()}
        flags["elderly_alone"] = size == 1 and rng.random() < 0.3
        flags["covid_household"] = covid
        yes = {True: "Có", False: "Không"}
        address = f"Số {int(rng.integers(1, 300))}, tổ {int(rng.integers(1, 20))} (địa chỉ mô phỏng / synthetic)"
        rows = []
        for k, person in enumerate(members):
            if k == 0:
                head = [size, address, *(yes[flags[f]] for f in HOUSEHOLD_FLAGS)]
                rows.append([hid, person, "Chủ hộ", hamlet, *head])
            else:
                relation = "Đã chuyển đi" if left[k] else RELATIONS[int(rng.integers(0, len(RELATIONS)))]
                rows.append([hid, person, relation, hamlet, "", "", *[""] * len(HOUSEHOLD_FLAGS)])
        return rows

    def rows(self) -> Iterator[list]:
        rng, areas = self.rng, self.f.areas
        double: list[tuple[str, str]] = []  # (commune, person) of case households' members, to list twice
        for n, c in enumerate(self.f.case_list, start=1):
            same = [x["person"] for x in c["contacts"] if x["commune"] == c["commune"]][:2]
            members = [_as_registered(c["person"]), *(_as_registered(p) for p in same)]
            members += [self._person() for _ in range(int(rng.integers(0, 4)))]
            if len(members) > 1 and len(double) < DOUBLE_LISTED and rng.random() < 0.01:
                double.append((c["commune"], members[-1]))
            yield from self._household(f"HO-F-{n:06d}", self._hamlet(c["commune"]), c["commune"], members, True)
        scale = self.f.g.opt.scale
        for commune in areas.communes:
            others = [person for home, person in double if home != commune]
            for code, population, _, _ in areas.hamlets[commune]:
                estimated = population / MEMBERS_PER_HOUSEHOLD / HOUSEHOLD_SAMPLE * scale
                for k in range(max(MIN_HOUSEHOLDS, round(estimated))):
                    members = [self._person() for _ in range(1 + int(rng.poisson(2.4)))]
                    if others and k == 0 and rng.random() < 0.05:
                        members.append(others.pop())
                        double = [d for d in double if d[1] != members[-1]]
                    yield from self._household(f"HO-{code}-{k + 1:04d}", code, commune, members, False)


HOUSEHOLD_FLAGS = ["poor", "near_poor", "elderly_alone", "disabled", "lost_income", "migrant_worker", "covid_household"]


# Logistics of the synthetic facilities (issue 13 item 7), drawn at the demo's own rates (not published figures):
# meal and waste contracts sized on a share of a facility's beds (some below what its full beds would need),
# a few contracts ending before the period does (a facility without a contract: alerts), and support teams per role
# serving from the period's start with no end (a team ending on its last day left every forecast day unstaffed).
CONTRACT_SHARE = (0.4, 1.1)  # contracted meals (3 a bed) or waste (2.46 kg a bed) as a share of the beds' need
ENDED_EARLY = 0.1  # contracts that end on 15 Oct 2021, before the period's end
SUPPLIERS = ["Công ty TNHH Suất ăn Đồng Nai", "HTX Dịch vụ Tân Phong", "Bếp ăn Hội Chữ thập đỏ"]
HANDLERS = ["Công ty Dịch vụ Môi trường Đô thị Biên Hòa", "Công ty TNHH Xử lý chất thải Sonadezi"]
ROLES = [("Y tế", 0.2), ("An ninh", 0.05), ("Hậu cần", 0.08), ("Tình nguyện viên", 0.1)]  # headcount per bed


class LogisticsFeeds:
    """Support teams, meal and waste contracts of every synthetic treatment and quarantine facility."""

    def __init__(self, feeds: DemoFeeds):
        rng = _own_rng(feeds, 3)
        start = feeds.g.days[0]
        ended = dt.date(2021, 10, 15)
        self.team_rows: list[list] = []
        self.meal_rows: list[list] = []
        self.waste_rows: list[list] = []
        for f in feeds._facilities:
            beds = int(f["beds"] or 0) + 3 * int(f["rooms"] or 0)  # a quarantine room holds 2–4 F1
            if not beds:
                continue
            to_on = f"{ended:%d/%m/%Y}" if rng.random() < ENDED_EARLY else ""
            meals = max(3, round(3 * beds * float(rng.uniform(*CONTRACT_SHARE))))
            supplier = SUPPLIERS[int(rng.integers(0, len(SUPPLIERS)))]
            self.meal_rows.append([f"HD-SA-{f['id']}", f["id"], supplier, meals, 80000, f"{start:%d/%m/%Y}", to_on])
            kg = round(2.46 * beds * float(rng.uniform(*CONTRACT_SHARE)), 1)
            handler = HANDLERS[int(rng.integers(0, len(HANDLERS)))]
            self.waste_rows.append([f"HD-CT-{f['id']}", f["id"], handler, kg, f"{start:%d/%m/%Y}", to_on])
            for k, (role, per_bed) in enumerate(ROLES, start=1):
                headcount = int(rng.poisson(per_bed * beds))
                if headcount:
                    self.team_rows.append([f"DOI-{f['id']}-{k}", f["id"], role, headcount, f"{start:%d/%m/%Y}", ""])
