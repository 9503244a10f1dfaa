"""Database: engine, models, migrations and the project-local cluster."""
