"""Officers' scope: a `welfare` key carries a current commune or district; other roles carry none."""

from __future__ import annotations

from conftest import run_cli
from sqlalchemy import text
from welfare_support import hamlets

from gis.serve.auth import TokenVerifier
from gis.serve.settings import ServeSettings


def test_a_welfare_officer_is_scoped_to_a_commune(engine, db_url):
    commune = hamlets(engine, 1)[0][1]
    token = run_cli("users", "add", "cb.scope", "--role", "welfare", "--area", commune, database_url=db_url)
    user = TokenVerifier(engine, ServeSettings()).verify(token.stdout.strip())
    assert (user.name, user.role, user.area) == ("cb.scope", "welfare", commune)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT area_code FROM serve.api_key WHERE name = 'cb.scope'")).scalar()
    assert stored == commune


def test_welfare_needs_an_area_and_a_real_one_and_others_take_none(engine, db_url):
    hamlet = hamlets(engine, 1)[0][0]
    for args, says in (
        (("--role", "welfare"), "--area"),
        (("--role", "welfare", "--area", "99999"), "not a current district or commune"),
        (("--role", "welfare", "--area", hamlet), "not a current district or commune"),
        (("--role", "analyst", "--area", "25996"), "other roles take none"),
    ):
        proc = run_cli("users", "add", "cb.bad", *args, database_url=db_url, check=False)
        assert proc.returncode != 0 and says in proc.stderr + proc.stdout, (args, proc.stderr)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM serve.api_key WHERE name = 'cb.bad'")).scalar() == 0


def test_hotline_role_is_accepted(engine, db_url):
    token = run_cli("users", "add", "op.1022", "--role", "hotline", database_url=db_url).stdout.strip()
    assert TokenVerifier(engine, ServeSettings()).verify(token).role == "hotline"
