"""Differencing attack on what the public server publishes for the demo (issue 10, item 4).

The attacker reads every public zone of the demo's first month (pub.zones_history as `covidgis_public`, which is
what every public path serves: the OGC API, tiles, the map's API, processes, the GeoPackage export) and the
areas' populations, and turns each published number back into an interval for the count behind it: a rate times
its population (or its 18+ / 65+ population, which the product derives from the population by fixed shares), a
number in the reasons read to the precision it is written with. It then tightens the intervals with every identity
it knows, until nothing changes:

- parent minus children at every level: a province's count is the sum of its districts', a district's of its
  communes'; a commune's is its hamlets' plus the cases placed in the commune only (an unknown ≥ 0);
- day minus day of each window: a 7-day count is the sum of the last 7 days' new cases (new cases ≥ 0, none before
  the first day); a vaccination count is yesterday's plus today's doses (≥ 0);
- both together (daily new counts also add up from children to parents);
- and what a published zone says by being shown: a zone whose details are not suppressed holds no count between 0
  and the threshold.

Each suppressed count of people between 0 and the threshold (the true value read from stats.indicator) must keep at
least THRESHOLD possible values. The level and colour are computed from the exact values and stay public (their band
narrows a small unit's rate, see layers/README.md): the attacker does not use them.

Runtime (2 shared cores): the demo's feeds (all of Jul–Oct, deterministic, as `make demo` writes them) take ~50 s
to write and ingest, zones for the 31 days of July ~6 s, reading them ~10 s; each attack 1–3 s; ~100 s in all.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli
from sqlalchemy import text
from sqlalchemy.engine import make_url

from gis.db.engine import make_engine
from gis.risk.kinds import ByDate, Choice, Ratio
from gis.risk.ruleset import list_rulesets, load_ruleset
from gis.stats.settings import StatsSettings

FIRST, LAST = dt.date(2021, 7, 1), dt.date(2021, 7, 31)  # holds the leaking days 5–13 July and every window over them
LEAKING_DAYS = [dt.date(2021, 7, d) for d in range(5, 14)]  # the province-days
THRESHOLD = 5  # risk.published.suppress_below (the default)
HAMLET = 4  # admin level whose counts are published in bands of THRESHOLD; above it, 2 × THRESHOLD (pub.band_width)
NUMBER = re.compile(r"(\w+) = ([^ ]+)")
# What the view treats as counts of people, and as counting none (layers/_published_numbers.sql).
PEOPLE_COUNTS = {
    "cases_7d",
    "cases_14d",
    "community_cases_7d",
    "community_cases_prev_7d",
    "unknown_source_cases_14d",
    "unknown_source_clusters_14d",
    "hard_to_trace_cases_14d",
    "known_source_community_cases_14d",
    "f1_in_community",
    "tests_7d",
    "positive_tests_7d",
    "vaccinated_18plus_1dose",
    "vaccinated_50plus_full",
    "vaccinated_65plus_full",
    "admissions_7d",
}
COUNTING_NO_PEOPLE = {
    "previous_level",
    "adjacent_max_level",
    "treatment_capacity_met",
    "child_count",
    "child_count_level_2",
    "child_count_level_3",
    "child_count_level_4",
    "children_level_2_or_more",
    "children_level_4_scattered",
    "share_level_2",
    "share_level_3",
    "share_level_4",
    "share_level_2_literal",
    "share_level_2_inclusive",
    "share_level_3_literal",
    "share_level_3_inclusive",
}


@dataclass(frozen=True)
class Kind:
    """A published number of the default rule set (vn-4800-2021) and the count of people behind it."""

    column: str  # the count in stats.indicator
    share: str | None  # StatsSettings share of the population that is the denominator (None: the population)
    scale: float
    window: int | None  # days summed by the count; None: a running total


KINDS = {
    "community_cases_7d_per_100k": Kind("community_cases_7d", None, 100_000, 7),
    "coverage_18plus_1dose": Kind("vaccinated_18plus_1dose", "share_18plus", 1, None),
    "elderly_full_share": Kind("vaccinated_65plus_full", "share_65plus", 1, None),  # 65+ until 1 Nov 2021
}
ATTACKS = ["parent minus children", "day minus day", "combined"]
STATS = StatsSettings()  # the shares of the population by age the product divides by


@pytest.fixture(scope="module")
def demo(db_url, tmp_path_factory):
    """The demo's feeds ingested into the module's database, and zones computed for July."""
    env = {"COVIDGIS_VAR_DIR": str(tmp_path_factory.mktemp("var")), "COVIDGIS_HMAC_SECRET": "differencing-test"}
    feeds = tmp_path_factory.mktemp("demo-feeds")
    run_cli("ingest", "demo-data", "--out", str(feeds), "--load", database_url=db_url, env=env)
    run_cli("zones", "compute", "--from", FIRST.isoformat(), "--to", LAST.isoformat(), database_url=db_url, env=env)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT suppress_below FROM risk.published")).scalar_one() == THRESHOLD
        truth = pd.read_sql(
            text(
                "SELECT area_code AS code, day, "
                + ", ".join(k.column for k in KINDS.values())
                + " FROM stats.indicator WHERE day BETWEEN :a AND :b"
            ),
            conn,
            params={"a": FIRST, "b": LAST},
        )
    engine.dispose()
    public = make_engine(make_url(db_url).set(username="covidgis_public").render_as_string(hide_password=False))
    with public.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one() == "covidgis_public"
        areas = pd.read_sql(text("SELECT code, level, parent_code, population FROM pub.areas"), conn)
        zones = pd.read_sql(
            text(
                "SELECT code, day, details_suppressed, decisive, reasons FROM pub.zones_history "
                "WHERE day BETWEEN :a AND :b"
            ),
            conn,
            params={"a": FIRST, "b": LAST},
        )
    public.dispose()
    truth["day"], zones["day"] = pd.to_datetime(truth["day"]).dt.date, pd.to_datetime(zones["day"]).dt.date
    return areas, zones, truth


def denominator(kind: Kind, population: int) -> int:
    """What the product divides by: the population, or its share by age (gis/stats/sql/indicators.sql: the share
    is sent as a numeric, and numeric rounding takes halves away from zero)."""
    if kind.share is None:
        return population
    share = Decimal(str(getattr(STATS, kind.share)))
    return int((population * share).quantize(Decimal(1), ROUND_HALF_UP))


def text_bounds(token: str) -> tuple[float, float]:
    """The numbers a value written as `token` can be: `x` to its last digit, or a range `a–b`."""
    ends = token.split("–")
    values = [Decimal(t) for t in ends]
    exponents = [v.as_tuple().exponent for v in values]
    assert all(isinstance(e, int) for e in exponents), token  # a finite number, not NaN or infinity
    half = [Decimal(5).scaleb(int(e) - 1) for e in exponents]
    return float(values[0] - half[0]), float(values[-1] + half[-1])


def width(admin_level: int) -> int:
    """The band a count of an area of this level is published in (layers/_published_numbers.sql, pub.band_width)."""
    return THRESHOLD if admin_level == HAMLET else 2 * THRESHOLD


def published_bounds(zones: pd.DataFrame, areas: pd.DataFrame, name: str) -> dict[tuple[str, dt.date], tuple]:
    """(code, day) → the interval the public numbers give for the count behind `name`, where they give one."""
    kind = KINDS[name]
    population = dict(zip(areas["code"], areas["population"]))
    level = dict(zip(areas["code"], areas["level"]))
    out: dict[tuple[str, dt.date], tuple] = {}
    for row in zones.to_dict("records"):
        if row["details_suppressed"]:
            continue
        den = denominator(kind, population[row["code"]])
        lo, hi = 0.0, math.inf
        value = row["decisive"].get(name)
        if isinstance(value, (int, float)):
            n = value * den / kind.scale
            assert abs(n - round(n)) < 1e-6, f"{row['code']} {row['day']}: {name} = {value} is not a count over {den}"
            n = round(n)
            # Bands start at the threshold: a count off their grid can only be exact (a zero is: 1 … THRESHOLD − 1
            # would be suppressed); one on it may be rounded down.
            band = width(level[row["code"]])
            exact = n == 0 or (n - THRESHOLD) % band
            lo, hi = n, (n if exact else n + band - 1)
        for reason in (r for r in row["reasons"] if name in r):
            for key, token in NUMBER.findall(reason):
                if key == name and token != "(suppressed)":
                    a, b = text_bounds(token)
                    lo, hi = (
                        max(lo, math.ceil(a * den / kind.scale - 1e-9)),
                        min(hi, math.floor(b * den / kind.scale + 1e-9)),
                    )
        if (lo, hi) != (0.0, math.inf):
            out[(row["code"], row["day"])] = (lo, hi)
    return out


class Attack:
    """Integer unknowns with interval bounds, tightened by constraints `total = sum of parts` (all unknowns ≥ 0).

    Unknowns per unit and day: the published count W and the day's new count X. Units are the areas plus, under
    each commune, one for what is placed in the commune but in none of its hamlets. And per parent and day, the sum
    of its suppressed children (a parent minus its shown children is that sum: it must not be pinned either).
    """

    def __init__(self, areas: pd.DataFrame, days: list[dt.date], kind: Kind, attack: str, suppressed: set):
        communes = areas.loc[areas["level"] == 3, "code"]
        unplaced = pd.DataFrame({"code": communes + "#unplaced", "level": 4, "parent_code": communes})
        self.units = pd.concat([areas[["code", "level", "parent_code"]], unplaced], ignore_index=True)
        self.index = {c: i for i, c in enumerate(self.units["code"])}
        self.days = days
        n_units, n_days = len(self.units), len(days)
        self.W = np.arange(n_units * n_days).reshape(n_units, n_days)
        self.X = self.W + n_units * n_days
        hierarchy = attack in ("parent minus children", "combined")
        children: dict[str, list[str]] = {
            str(parent): list(kids)
            for parent, kids in areas.dropna(subset=["parent_code"]).groupby("parent_code")["code"]
        }
        self.groups: list[tuple[str, dt.date, list[str]]] = (
            [
                (parent, day, members)
                for parent, kids in children.items()
                for day in days
                if len(members := [k for k in kids if (k, day) in suppressed]) > 1
            ]
            if hierarchy
            else []
        )
        n = 2 * n_units * n_days + len(self.groups)
        self.lo, self.hi, self.not_small = np.zeros(n), np.full(n, np.inf), np.zeros(n, bool)
        families, totals, parts = [], [], []  # one row per membership: part `part` of the sum `total` of a family

        def add(family: int, total: np.ndarray, part: np.ndarray) -> None:
            families.append(np.full(total.size, family))
            totals.append(total.ravel())
            parts.append(part.ravel())

        if hierarchy:
            child = self.units["parent_code"].map(self.index)
            kids = np.flatnonzero(child.notna())
            parent = child.iloc[kids].astype(int).to_numpy()
            add(0, self.W[parent], self.W[kids])
            if attack == "combined":
                add(1, self.X[parent], self.X[kids])
            for g, (parent_code, day, members) in enumerate(self.groups):
                d, group = days.index(day), 2 * n_units * n_days + g
                add(3, np.full(len(members), group), self.W[[self.index[m] for m in members], d])
                # … and the parent is its shown children plus the group
                rest = [
                    k
                    for k in children[parent_code] + [parent_code + "#unplaced"]
                    if k in self.index and k not in members
                ]
                add(
                    4,
                    np.full(len(rest) + 1, self.W[self.index[parent_code], d]),
                    np.append(self.W[[self.index[k] for k in rest], d], group),
                )
        if attack in ("day minus day", "combined"):
            if kind.window:  # W[d] = X[d] + … + X[d - window + 1]
                for lag in range(kind.window):
                    add(2, self.W[:, lag:], self.X[:, : n_days - lag])
            else:  # W[d] = W[d - 1] + X[d]
                add(2, self.W[:, 1:], self.W[:, :-1])
                add(2, self.W[:, 1:], self.X[:, 1:])
        self.total = np.concatenate(totals)
        self.part = np.concatenate(parts)
        _, self.constraint = np.unique(np.concatenate(families) * n + self.total, return_inverse=True)
        self.group_ids = 2 * n_units * n_days + np.arange(len(self.groups))

    def publish(self, bounds: dict, not_small: set) -> None:
        for (code, day), (lo, hi) in bounds.items():
            v = self.W[self.index[code], self.days.index(day)]
            self.lo[v], self.hi[v] = max(self.lo[v], lo), min(self.hi[v], hi)
        for code, day in not_small:
            self.not_small[self.W[self.index[code], self.days.index(day)]] = True

    def run(self, rounds: int = 5000) -> None:
        """Interval propagation until a fixed point (sound: the true counts stay inside every interval)."""
        c, t, p = self.constraint, self.total, self.part
        n_c = c.max() + 1
        tot_of = np.zeros(n_c, int)
        tot_of[c] = t
        by_part = np.argsort(p, kind="stable")
        part_ids, part_starts = np.unique(p[by_part], return_index=True)
        by_tot = np.argsort(tot_of, kind="stable")
        tot_ids, tot_starts = np.unique(tot_of[by_tot], return_index=True)
        lo, hi = self.lo, self.hi
        for _ in range(rounds):
            before = lo.copy(), hi.copy()
            plo, phi_v = lo[p], hi[p]
            inf = np.isinf(phi_v)
            sum_lo = np.bincount(c, plo, n_c)
            sum_hi = np.bincount(c, np.where(inf, 0, phi_v), n_c)
            n_inf = np.bincount(c, inf, n_c)
            # total ∈ [Σ lo, Σ hi]
            lo[tot_ids] = np.maximum(lo[tot_ids], np.maximum.reduceat(sum_lo[by_tot], tot_starts))
            hi[tot_ids] = np.minimum(
                hi[tot_ids], np.minimum.reduceat(np.where(n_inf > 0, np.inf, sum_hi)[by_tot], tot_starts)
            )
            # part ∈ [total lo − Σ others' hi, total hi − Σ others' lo]
            others_hi = np.where(n_inf[c] - inf == 0, sum_hi[c] - np.where(inf, 0, phi_v), np.inf)
            others_lo = sum_lo[c] - plo
            lo[part_ids] = np.maximum(lo[part_ids], np.maximum.reduceat((lo[t] - others_hi)[by_part], part_starts))
            hi[part_ids] = np.minimum(hi[part_ids], np.minimum.reduceat((hi[t] - others_lo)[by_part], part_starts))
            np.ceil(lo, out=lo)
            np.floor(hi, out=hi)
            small = self.not_small
            hi[small & (hi < THRESHOLD)] = np.minimum(hi[small & (hi < THRESHOLD)], 0)
            lo[small & (lo > 0) & (lo < THRESHOLD)] = THRESHOLD
            if np.array_equal(lo, before[0]) and np.array_equal(hi, before[1]):
                return
        raise AssertionError(f"the attack did not settle in {rounds} rounds")

    def interval(self, code: str, day: dt.date) -> tuple[float, float]:
        v = self.W[self.index[code], self.days.index(day)]
        return self.lo[v], self.hi[v]


def attack(demo, name: str, attack_name: str, exact: bool = False) -> tuple[list[str], int]:
    """Run one attack on one published number; returns the suppressed small counts it narrows, and their count.

    exact: publish every shown number at full precision (what the server did before issue 10): the attack's teeth.
    """
    areas, zones, truth = demo
    kind = KINDS[name]
    days = sorted(zones["day"].unique())
    suppressed = {(r.code, r.day) for r in zones.itertuples() if r.details_suppressed}
    system = Attack(areas, days, kind, attack_name, suppressed)
    true = {(r.code, r.day): getattr(r, kind.column) for r in truth.itertuples()}
    if exact:
        shown = zones[~zones["details_suppressed"] & zones["decisive"].map(lambda d: name in d)]
        bounds = {(r.code, r.day): (true[(r.code, r.day)],) * 2 for r in shown.itertuples()}
    else:
        bounds = published_bounds(zones, areas, name)
    system.publish(bounds, {(r.code, r.day) for r in zones.itertuples() if not r.details_suppressed})
    system.run()
    level = dict(zip(areas["code"], areas["level"]))
    narrowed, targets = [], 0
    for r in zones.itertuples():
        value = true[(r.code, r.day)]
        lo, hi = system.interval(r.code, r.day)
        assert lo <= value <= hi, f"unsound attack: {r.code} {r.day} {kind.column} = {value} outside [{lo}, {hi}]"
        if r.details_suppressed and 0 < value < THRESHOLD:
            targets += 1
            if hi - lo + 1 < THRESHOLD:
                narrowed.append(
                    f"level {level[r.code]} {r.code} {r.day}: {kind.column} = {value} pinned to [{lo:g}, {hi:g}]"
                )
    for (_parent, day, members), v in zip(system.groups, system.group_ids):
        value = sum(true[(m, day)] for m in members)
        lo, hi = system.lo[v], system.hi[v]
        assert lo <= value <= hi, f"unsound attack: {'+'.join(members)} {day} = {value} outside [{lo}, {hi}]"
        if 0 < value < THRESHOLD:
            targets += 1
            if hi - lo + 1 < THRESHOLD:
                narrowed.append(
                    f"level {level[members[0]]} {'+'.join(members)} {day}: {kind.column} = {value} "
                    f"together, pinned to [{lo:g}, {hi:g}]"
                )
    return narrowed, targets


@pytest.mark.parametrize("attack_name", ATTACKS)
@pytest.mark.parametrize("name", list(KINDS))
def test_no_suppressed_count_is_recovered(demo, name, attack_name):
    narrowed, targets = attack(demo, name, attack_name)
    assert not narrowed, (
        f"{attack_name} on {name}: {len(narrowed)} of {targets} suppressed counts narrowed "
        f"below {THRESHOLD} values, e.g. " + "; ".join(narrowed[:8])
    )


def test_the_attack_recovers_counts_from_numbers_at_full_precision(demo):
    """The same attacks, fed the shown numbers unrounded (what the server published before issue 10), find the
    issue's leak — a suppressed district's cases on each of the nine province-days, from the province's rate minus
    its districts' — and, days and levels together, more than either alone."""
    narrowed, targets = attack(demo, "community_cases_7d_per_100k", "parent minus children", exact=True)
    assert targets
    for day in LEAKING_DAYS:
        assert any(n.startswith("level 2 ") and f" {day}:" in n for n in narrowed), (day, narrowed[:10])
    alone = [set(attack(demo, "coverage_18plus_1dose", a, exact=True)[0]) for a in ATTACKS[:2]]
    combined = set(attack(demo, "coverage_18plus_1dose", "combined", exact=True)[0])
    assert all(a < combined for a in alone), (len(alone[0]), len(alone[1]), len(combined))


def expected_number(rs, name: str, day: dt.date, raw, counts: dict):
    """What the public view must publish for decisive[name], from the rule set's own definition of it (not the
    view's list): a ratio of counts of people from the counts rounded down to their band (of the threshold's width
    for a hamlet, twice it above; a count denominator too), a count rounded down, a value counting no
    people as it is; anything else null."""
    derived = rs.derived.get(name)
    if isinstance(derived, Choice):
        return expected_number(rs, derived.options[str(rs.parameters[derived.parameter].value)], day, raw, counts)
    if isinstance(derived, ByDate):
        period = max(
            (p for p in derived.periods if p.start is None or p.start <= day), key=lambda p: p.start or dt.date.min
        )
        return expected_number(rs, period.use, day, raw, counts)
    if raw is None or isinstance(raw, bool) or name in COUNTING_NO_PEOPLE:
        return raw
    if isinstance(derived, Ratio):
        parts = len(derived.numerator) if derived.numerator_op == "mean" else 1
        den = counts[derived.denominator]
        b = width(counts["admin_level"])
        den = band(den, b) if derived.denominator in PEOPLE_COUNTS else den
        return band(sum(counts[f] for f in derived.numerator), b) * (rs.num(derived.scale) / parts) / den
    return band(raw, width(counts["admin_level"])) if name in PEOPLE_COUNTS else None


def band(x: float, b: int) -> float:
    """x rounded down to its band of b values: 0 below the threshold, THRESHOLD + k·b from it on."""
    return 0 if x < THRESHOLD else THRESHOLD + math.floor((x - THRESHOLD) / b) * b


@pytest.mark.parametrize("ruleset_id", list_rulesets())
def test_every_rule_sets_numbers_are_published_rounded(demo, db_url, ruleset_id):
    """Whatever rule set is published, each number in `decisive` is the rule set's own ratio of the counts rounded
    down to the threshold (or null where the rule set's definition counts people in a way the view does not know),
    and each in the reasons is a range that holds the true value."""
    days = [dt.date(2021, 7, 20), LAST]
    rs = load_ruleset(ruleset_id)
    for day in days:
        run_cli("zones", "compute", "--date", day.isoformat(), "--ruleset", ruleset_id, database_url=db_url)
    engine = make_engine(db_url)
    public = make_engine(make_url(db_url).set(username="covidgis_public").render_as_string(hide_password=False))
    try:
        with engine.begin() as conn:
            previous = conn.execute(
                text("UPDATE risk.published p SET ruleset_id = :r FROM risk.published o RETURNING o.ruleset_id"),
                {"r": ruleset_id},
            ).scalar_one()
            truth = {
                (r.area_code, r.day): r
                for r in conn.execute(
                    text(
                        "SELECT z.area_code, z.day, z.decisive, z.inputs || to_jsonb(i) AS counts FROM risk.zone z "
                        "JOIN stats.indicator i USING (day, area_code) WHERE z.ruleset_id = :r AND z.day = ANY(:d)"
                    ),
                    {"r": ruleset_id, "d": days},
                )
            }
        with public.connect() as conn:
            shown = conn.execute(
                text(
                    "SELECT code, day, details_suppressed, decisive, reasons FROM pub.zones_history WHERE day = ANY(:d)"
                ),
                {"d": days},
            ).all()
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE risk.published SET ruleset_id = :r"), {"r": previous})
        engine.dispose()
        public.dispose()
    assert len(shown) == len(truth) > 0
    checked = 0
    for row in shown:
        exact = truth[(row.code, row.day)]
        assert set(row.decisive) == set(exact.decisive)
        for name, raw in exact.decisive.items():
            published = row.decisive[name]
            if row.details_suppressed:
                assert published is None, (row.code, name)
                continue
            want = expected_number(rs, name, row.day, raw, exact.counts)
            assert (published is None) == (want is None) and (want is None or math.isclose(published, want)), (
                ruleset_id,
                row.code,
                row.day,
                name,
                raw,
                published,
                want,
            )
            checked += isinstance(raw, (int, float)) and raw != published
        for reason in row.reasons:
            for name, token in NUMBER.findall(reason):
                raw = exact.decisive.get(name)
                if (
                    row.details_suppressed
                    or name not in exact.decisive
                    or (row.decisive[name] is None and raw is not None)
                ):
                    assert token == "(suppressed)", (row.code, reason)
                elif name not in COUNTING_NO_PEOPLE and raw != 0:
                    low, high = text_bounds(token)
                    assert low <= raw <= high and "–" in token, (row.code, reason)
    assert checked, f"{ruleset_id}: no published number differs from the exact one"
