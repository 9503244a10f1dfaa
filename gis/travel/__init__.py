"""Travel measures per epidemic level (issue 15): cited rule sets (rulesets/*.yml), loaded by rules.py.

A leaf stage: it imports only gis/citations.py, gis/levels.py and gis/errors.py. The processes of gis/serve read its
measures as data, like gis/levels.py.
"""
