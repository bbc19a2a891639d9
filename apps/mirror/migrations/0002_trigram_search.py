"""On PostgreSQL, trigram indexes make the mirror's accent-free search (`search_text LIKE
'% word%'`) use an index; SQLite keeps the B-tree index of 0001."""

from typing import Any

from django.db import migrations

TABLES = ("mirror_card", "mirror_contact")


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table in TABLES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {table}_search_trgm ON {table} "
            "USING gin (search_text gin_trgm_ops)"
        )


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("mirror", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
