"""Persistence: SQLAlchemy rows, the database handle and migrations."""
