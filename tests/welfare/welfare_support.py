"""Seeding households and zones for welfare scenarios directly (the feed itself is tested through the CLI)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FLAGS = ("poor", "near_poor", "elderly_alone", "disabled", "lost_income", "migrant_worker", "covid_household")


def local(day: str, hhmm: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=TZ)


def hamlets(engine: Engine, communes: int = 2) -> list[tuple[str, str]]:
    """(hamlet code, commune code) of the first hamlet of `communes` different current communes."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT DISTINCT ON (parent_code) code, parent_code FROM admin.area "
                "WHERE level = 4 AND valid_to IS NULL ORDER BY parent_code, code LIMIT :n"
            ),
            {"n": communes},
        ).all()
    return [(r[0], r[1]) for r in rows]


def add_household(
    engine: Engine, household_id: str, hamlet: tuple[str, str], members: list[str], **flags: bool | None
) -> None:
    """A household (first member the head) in a hamlet, with flags (unset flags are false)."""
    values = {f: flags.get(f, False) for f in FLAGS}
    with engine.begin() as conn:
        for i, person in enumerate(members):
            conn.execute(
                text(
                    "INSERT INTO events.households (household_id, person_key, role, size, area_code, commune_code, "
                    f"batch_id, row_hash, {', '.join(FLAGS)}) VALUES (:h, :p, :r, :n, :a, :c, 0, 'seed', "
                    f"{', '.join(':' + f for f in FLAGS)})"
                ),
                {
                    "h": household_id,
                    "p": person,
                    "r": "head" if i == 0 else "member",
                    "n": len(members),
                    "a": hamlet[0],
                    "c": hamlet[1],
                    **values,
                },
            )


def add_zone(engine: Engine, area_code: str, day: str, level: int, ruleset_id: str = "vn-4800-2021") -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO risk.zone (ruleset_id, day, area_code, admin_level, ruleset_version, level, colour, "
                "label_vi, label_en, computed_level, reasons, decisive, inputs) VALUES (:r, :d, :a, 4, 'test', :l, "
                "'red', 'Cấp ' || :l, 'Level ' || :l, :l, '[]', '{}', '{}') ON CONFLICT (ruleset_id, day, area_code) "
                "DO UPDATE SET level = excluded.level"
            ),
            {"r": ruleset_id, "d": dt.date.fromisoformat(day), "a": area_code, "l": level},
        )
