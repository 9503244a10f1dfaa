"""Tracing from QR check-ins (issue 12): each F0's visits in its infectious window, the contacts, locations of
interest and proposed narrow lockdowns. Rule sets are cited YAML data (`rules.py`, `rulesets/`); the stage imports only
the ground floor (gis.db, gis.sqlfiles, gis.summary, gis.errors, gis.levels, gis.settings), never another stage.
"""
