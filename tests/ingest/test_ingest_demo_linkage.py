"""The SYNTHETIC demo feeds link one person across feeds (an F1 who becomes a case, the case's tests, a recovered
case's vaccination) through person_key, and the raw ID card and phone numbers reach the database nowhere."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from pathlib import Path

import pytest
from ingest_fixtures import covidgis, ingest_env, ingest_json  # noqa: F401  (fixtures)
from sqlalchemy import text
from sqlalchemy.engine import make_url

from gis.ingest.pseudonym import normalise

ARGS = ["--start", "2021-07-01", "--end", "2021-07-31", "--scale", "0.3", "--seed", "11"]
PG_DUMP = Path("/usr/lib/postgresql/15/bin/pg_dump")


@pytest.fixture(scope="module")
def demo(covidgis, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-linkage")
    result = json.loads(covidgis("ingest", "demo-data", "--out", str(out), *ARGS, "--load", "--json").stdout)
    return out, result


def test_an_f1_who_becomes_a_case_is_one_person_across_feeds(engine, demo):
    with engine.connect() as conn:
        linked = conn.execute(
            text(
                "SELECT count(DISTINCT c.person_key) FROM events.cases c "
                "JOIN events.quarantine_stays q USING (person_key) "
                "JOIN events.tests t ON t.person_key = c.person_key AND t.result = 'positive'"
            )
        ).scalar()
        found_in_quarantine = conn.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM events.quarantine_stays q "
                "WHERE q.person_key = c.person_key AND q.start_on <= c.detected_on)) "
                "FROM events.cases c WHERE detection_setting = 'quarantine'"
            )
        ).one()
        contacts_tested = conn.execute(
            text(
                "SELECT count(DISTINCT q.person_key) FROM events.quarantine_stays q "
                "JOIN events.tests t USING (person_key) WHERE t.result = 'negative'"
            )
        ).scalar()
        vaccinated_cases = conn.execute(
            text(
                "SELECT count(DISTINCT c.person_key) FROM events.cases c JOIN events.vaccinations v USING (person_key)"
            )
        ).scalar()
    assert linked >= 1  # in quarantine_stays, cases and tests under one person_key
    cases, registered = found_in_quarantine
    assert cases >= 1 and registered == cases  # every case found in quarantine had been registered as an F1
    assert contacts_tested > 0 and vaccinated_cases > 0


def test_same_seed_still_same_files(covidgis, demo, tmp_path):
    out, _ = demo
    covidgis("ingest", "demo-data", "--out", str(tmp_path), *ARGS)
    for name in ("cases.csv", "tests.csv", "quarantine.csv", "checkins.ndjson"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def _raw_identifiers(out: Path) -> set[str]:
    """Every ID card and phone number the demo files hold, in the one spelling the pseudonymiser hashes."""
    raw = set()
    for name, column in (
        ("cases.csv", "Số CCCD/SĐT"),
        ("tests.csv", "Số CCCD/SĐT"),
        ("quarantine.csv", "Số CCCD/SĐT"),
    ):
        with open(out / name, encoding="utf-8-sig", newline="") as f:
            raw |= {normalise(row[column]) for row in csv.DictReader(f) if row[column]}
    with open(out / "checkins.ndjson", encoding="utf-8") as f:
        raw |= {normalise(json.loads(line)["phone"]) for line in f}
    return raw


def _identifier_values(dump: str) -> set[str]:
    """Every value of the text that looks like an ID card or phone number, normalised.

    Whole values (a column, a JSON string) rather than substrings: the demo's numbers are low in entropy
    (0390000002), and hex keys, WKB and float digits would hold some of them by chance.
    """
    values = set()
    for token in re.split(r"[\t\n\"',:{}\[\]]", dump):
        token = token.strip()
        if 9 <= len(token) <= 20 and re.fullmatch(r"\+?[\d .\-()/]+", token):
            values.add(normalise(token))
    return values


def test_the_raw_identifiers_are_nowhere_in_a_dump(db_url, demo):
    out, _ = demo
    raw = _raw_identifiers(out)
    assert len(raw) > 1000 and raw & _identifier_values((out / "quarantine.csv").read_text(encoding="utf-8-sig"))
    url = make_url(db_url)
    dump = subprocess.run(
        [
            str(PG_DUMP),
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port),
            "-U",
            url.username or "postgres",
            "--data-only",
            url.database or "",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "BN-000001" in dump and "CL-0000001" in dump  # the dump does hold the rows
    assert not _identifier_values(dump) & raw
