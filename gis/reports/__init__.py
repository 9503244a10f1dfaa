"""Reports for the steering committee, read from the stored indicators and zones (the map's numbers)."""
