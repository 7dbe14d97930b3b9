"""The server's database: engines (primary and replicas), sessions, models, migrations."""
