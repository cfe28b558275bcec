"""Alembic environment: runs on the connection the caller passes (see storage.db.Database.migrate)."""
from alembic import context

from storage.crypto import EncryptedText
from storage.models import Base, UtcDateTime


def render_item(kind, obj, autogen_context):
    # Our UTC wrapper is a Python-side concern: the column is a plain timezone-aware DateTime.
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    # Encryption happens in Python too: in the database it is plain TEXT.
    if kind == "type" and isinstance(obj, EncryptedText):
        return "sa.Text()"
    return False


connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, render_item=render_item)
with context.begin_transaction():
    context.run_migrations()
