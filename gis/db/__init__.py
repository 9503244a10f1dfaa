"""Database: engine, migrations, the project-local cluster and its backups."""
