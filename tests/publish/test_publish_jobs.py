"""Publishing composed after every snapshot change (gis/jobs.py, issue 15 item 1): a recompute that changes zones and
`covidgis zones publish` write the static folder, with the travel measures; an unchanged recompute does not; the
switch turns it off; a folder that cannot be written is logged, never a failure of the recompute."""

import json
import logging
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serve"))
from conftest import run_cli  # noqa: E402
from serve_support import DAYS, TAN_PHONG, filled  # noqa: E402, F401

from gis.context import AppContext  # noqa: E402
from gis.jobs import publish_zones, recompute  # noqa: E402
from gis.publish.settings import PublishSettings  # noqa: E402
from gis.settings import Settings  # noqa: E402
from gis.travel.measures import travel_measures_document  # noqa: E402


def context(db_url: str, var_dir: Path, **publish) -> AppContext:
    settings = Settings.model_validate({"DATABASE_URL": db_url, "var_dir": var_dir})
    return AppContext(settings=settings, publish=PublishSettings(**publish))


def latest(folder: Path) -> dict:
    return json.loads((folder / "latest.json").read_text(encoding="utf-8"))


def forget_a_zone(engine) -> None:
    """One stored zone of the shown day gone: the next recompute stores it again, a snapshot change."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM risk.zone WHERE day = :d AND area_code = :c"), {"d": DAYS[-1], "c": TAN_PHONG})


def test_a_recompute_that_changes_the_snapshot_publishes_it(filled, db_url, tmp_path):
    with context(db_url, tmp_path, after_change=True) as ctx:
        forget_a_zone(filled)
        done = recompute(ctx, [DAYS[-1]], "vn-4800-2021")
        assert done.zones.snapshot_version is not None and done.published is not None
        folder = tmp_path / "publish"
        assert done.published.out == folder.resolve()
        shown = latest(folder)
        assert shown["snapshot_version"] == done.zones.snapshot_version
        travel = [e for e in shown["files"] if e["path"].split("/")[-1].startswith("travel-measures.")]
        assert len(travel) == 1
        document = json.loads((folder / travel[0]["path"]).read_text(encoding="utf-8"))
        assert document == json.loads(json.dumps(travel_measures_document(ctx.travel.ruleset)))
        assert (folder / "index.html").is_file() and (folder / "map.js").is_file()  # the map that reads them

        again = recompute(ctx, [DAYS[-1]], "vn-4800-2021")  # nothing changed: no new snapshot
        assert again.zones.snapshot_version is None and again.published is None
        assert latest(folder)["snapshot_version"] == shown["snapshot_version"]


def test_the_switch_turns_it_off(filled, db_url, tmp_path):
    with context(db_url, tmp_path, after_change=False) as ctx:
        forget_a_zone(filled)
        done = recompute(ctx, [DAYS[-1]], "vn-4800-2021")
        assert done.zones.snapshot_version is not None and done.published is None
    assert not (tmp_path / "publish").exists()


@pytest.fixture(scope="module")
def two_rulesets(filled, db_url, tmp_path_factory):
    """Zones of a second rule set for the fixture's days (not published), so publishing it is a snapshot change."""
    with context(db_url, tmp_path_factory.mktemp("var"), after_change=False) as ctx:
        recompute(ctx, DAYS, "vn-2686-2021")
    return filled


def test_zones_publish_writes_the_folder_and_a_bad_folder_is_only_logged(two_rulesets, db_url, tmp_path, caplog):
    with context(db_url, tmp_path, after_change=True) as ctx:
        done, static = publish_zones(ctx, "vn-2686-2021")  # another rule set: a new snapshot
        assert done.snapshot_version is not None and static is not None
        assert latest(tmp_path / "publish")["ruleset"] == "vn-2686-2021"
        blocked = tmp_path / "not-a-folder"
        blocked.write_text("a file where the folder should be")
    with context(db_url, tmp_path, after_change=True, dir=blocked) as ctx, caplog.at_level(logging.WARNING):
        done, static = publish_zones(ctx, "vn-4800-2021")
        assert done.snapshot_version is not None and static is None  # the zones are public all the same
    assert "not published as static files" in caplog.text and "is not a folder" in caplog.text


def test_the_cli_publishes_after_zones_publish(two_rulesets, db_url, tmp_path):
    env = {"COVIDGIS_PUBLISH_AFTER_CHANGE": "true", "COVIDGIS_VAR_DIR": str(tmp_path)}
    run_cli("zones", "publish", "--ruleset", "vn-2686-2021", database_url=db_url, env=env)
    proc = run_cli("zones", "publish", "--ruleset", "vn-4800-2021", database_url=db_url, env=env)
    assert "static snapshot" in proc.stdout
    shown = latest(tmp_path / "publish")
    assert shown["ruleset"] == "vn-4800-2021"
    assert any(e["path"].split("/")[-1].startswith("travel-measures.") for e in shown["files"])
