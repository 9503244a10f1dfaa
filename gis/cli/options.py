"""Options several commands share, read from the ground floor's vocabulary (gis/levels.py), never a copy of it."""

from __future__ import annotations

import typer

from gis.levels import ADMIN_LEVELS, AdminLevel


def admin_level(value: str | AdminLevel) -> AdminLevel:
    """An administrative level by its name (province, district, commune, hamlet), as the rule sets name them."""
    if isinstance(value, AdminLevel):
        return value
    try:
        return AdminLevel[value]
    except KeyError:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(ADMIN_LEVELS)}") from None


def level_option(help_text: str) -> AdminLevel:
    """`--level NAME`, commune when omitted."""
    return typer.Option(
        AdminLevel.commune, parser=admin_level, metavar="|".join(ADMIN_LEVELS), help=help_text, show_default="commune"
    )
