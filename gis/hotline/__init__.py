"""The 1022 hotline as Open311 GeoReport v2 (issue 14 item 9): gis/hotline/open311.py."""
