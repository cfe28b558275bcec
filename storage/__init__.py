"""Storage: SQLAlchemy models, migrations and the database handle."""
from storage.db import Database, default_database_url, open_database

__all__ = ["Database", "default_database_url", "open_database"]
