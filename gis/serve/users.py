"""API keys of the people and systems allowed to read restricted collections (`covidgis users`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from gis import sqlfiles
from gis.errors import CovidGisError
from gis.levels import AdminLevel
from gis.serve.auth import ROLES, hash_token, new_token

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "serve.sql")


class UserError(CovidGisError):
    """A user cannot be added or revoked as asked."""


def add_user(engine: Engine, name: str, role: str, area: str | None = None) -> str:
    """Store a new API key for `name` and return the token (shown once; only its sha256 is kept). A `welfare`
    officer is scoped to a current commune or district (`area`, its code): they record only there."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not name.strip():
        raise UserError("a user needs a name")
    if (role == "welfare") != (area is not None):
        raise UserError("a welfare officer needs --area (their commune or district code); other roles take none")
    if area is not None:
        with engine.connect() as conn:
            level = conn.exec_driver_sql(SQL["area_level"], {"code": area}).scalar()
        if level not in (AdminLevel.district, AdminLevel.commune):
            raise UserError(f"--area {area!r} is not a current district or commune code")
    token = new_token()
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                SQL["add_key"],
                {"name": name.strip(), "role": role, "token_sha256": hash_token(token), "area_code": area},
            )
    except IntegrityError:
        raise UserError(f"{name!r} already has an active key: `covidgis users revoke {name}` first") from None
    return token


def list_users(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.exec_driver_sql(SQL["list_keys"]).mappings()]


def revoke_user(engine: Engine, name: str) -> int:
    """Revoke the active key of `name`; it stops working within ServeSettings.token_ttl_seconds."""
    with engine.begin() as conn:
        revoked = conn.exec_driver_sql(SQL["revoke_key"], {"name": name}).all()
    if not revoked:
        raise UserError(f"{name!r} has no active key")
    return len(revoked)
