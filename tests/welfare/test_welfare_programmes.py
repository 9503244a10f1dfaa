"""Every shipped programme file loads, every value cites a known instrument, and bad files fail naming the key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from gis.welfare.errors import InvalidProgramme, UnknownProgramme
from gis.welfare.programmes import (
    PROGRAMME_DIR,
    available_programmes,
    load_programme,
    load_programmes,
    parse_programme,
    programme_listing,
)

FIXTURES = Path(__file__).parent / "fixtures"


def _sources(node: object, path: str = "") -> list[tuple[str, str]]:
    """(key path, source) of every mapping in a raw programme file that names a source."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("source", "applies_to_source", "instrument") and isinstance(value, str):
                found.append((f"{path}.{key}", value))
            found += _sources(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _sources(value, f"{path}.{i}")
    return found


def test_there_are_programmes_and_their_ids_are_their_file_names():
    ids = available_programmes()
    assert len(ids) >= 20
    assert [p.id for p in load_programmes()] == ids


@pytest.mark.parametrize("ref", available_programmes())
def test_every_programme_loads_and_cites_known_instruments(ref):
    programme = load_programme(ref)
    raw = yaml.safe_load((PROGRAMME_DIR / f"{ref}.yml").read_text(encoding="utf-8"))
    sources = _sources(raw)
    assert sources, "a programme cites its texts"
    for path, source in sources:
        assert source in programme.instruments, (path, source)
    for key, instrument in programme.instruments.items():
        assert instrument.number and instrument.issuer, key
    for name in ("period", "benefit", "frequency", "dedup"):
        part = getattr(programme, name)
        assert part.status in ("confirmed", "open") and part.article, name
    assert programme.period.from_ <= programme.period.to
    assert programme.dedup.scope in ("person", "household", "both")


def test_the_listing_gives_id_title_decision_and_period():
    listing = programme_listing().to_json()["programmes"]
    poor = next(p for p in listing if p["id"] == "dongnai-4346-2021-poor-near-poor")
    assert poor["title_vi"].startswith("Đồng Nai")
    assert poor["decision"]["number"].startswith("4346/QĐ-UBND")
    assert poor["period"] == {"from": "2021-01-01", "to": "2021-12-31"}
    assert poor["dedup"] == "both"


def _broken(tmp_path: Path, change) -> Path:
    data = yaml.safe_load((FIXTURES / "test-zone-programme.yml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_typo_is_an_error_naming_the_key(tmp_path):
    path = _broken(tmp_path, lambda d: d["dedup"].update(scpoe="person"))
    with pytest.raises(InvalidProgramme, match=r"dedup\.scpoe: unknown key"):
        parse_programme(path)


def test_an_uncited_source_is_an_error_naming_the_key(tmp_path):
    path = _broken(tmp_path, lambda d: d["eligibility"]["all"][0]["any"][1].update(source="nq999"))
    with pytest.raises(InvalidProgramme, match=r"eligibility\.all\.0\.any\.1\.source: 'nq999' is not in instruments"):
        parse_programme(path)


def test_an_unknown_flag_and_a_bad_status_are_errors(tmp_path):
    path = _broken(tmp_path, lambda d: d["eligibility"]["all"][1].update(flag="rich"))
    with pytest.raises(InvalidProgramme, match="eligibility.all.1"):
        parse_programme(path)
    path = _broken(tmp_path, lambda d: d["period"].update(status="maybe"))
    with pytest.raises(InvalidProgramme, match="period.status"):
        parse_programme(path)


def test_zone_levels_only_on_a_required_zone(tmp_path):
    path = _broken(tmp_path, lambda d: d["eligibility"]["zone"].update(required=False))
    with pytest.raises(InvalidProgramme, match="eligibility.zone: .*not required"):
        parse_programme(path)


def test_an_unknown_programme_names_the_shipped_ones():
    with pytest.raises(UnknownProgramme, match="dongnai-4346-2021-renters"):
        load_programme("no-such-programme")


def test_open_and_dedup_period():
    test = parse_programme(FIXTURES / "test-zone-programme.yml")
    assert not test.is_open(dt.date(2021, 7, 31)) and test.is_open(dt.date(2021, 8, 1))
    assert test.period_start(dt.date(2021, 8, 20)) == dt.date(2021, 8, 1)
    meals = load_programme("dongnai-4346-2021-isolation-meals")
    assert meals.frequency.kind == "per_day" and meals.period_start(dt.date(2021, 8, 20)) == dt.date(2021, 8, 20)
