"""Trigram indexes for the autocomplete on PostgreSQL.

The search filters with LIKE '%word%' on normalised columns; pg_trgm's GIN
indexes answer those without a table scan. SQLite has no such index and scans
the ~37,000 rows, which is fast enough for development.
"""

from django.db import migrations

INDEXES = {
    "territory_search_name_trgm": "search_name",
    "territory_postal_codes_trgm": "postal_codes",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON territories_territory "
            f"USING gin ({column} gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("territories", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
