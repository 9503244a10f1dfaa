"""Statistics: daily indicators per area and level, computed in SQL from the event tables."""
