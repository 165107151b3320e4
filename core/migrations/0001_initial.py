"""WorkerHeartbeat, moved here from the `alliance` app with its table.

A database made before the move already has `alliance_workerheartbeat` (the old
app's migrations created it): the model takes it over as it is. A new database
gets it here.
"""

import django.utils.timezone
from django.db import migrations, models


def create_table_unless_there(apps, schema_editor):
    model = apps.get_model("core", "WorkerHeartbeat")
    if model._meta.db_table not in schema_editor.connection.introspection.table_names():
        schema_editor.create_model(model)


def drop_table(apps, schema_editor):
    schema_editor.delete_model(apps.get_model("core", "WorkerHeartbeat"))


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WorkerHeartbeat",
                    fields=[
                        (
                            "hostname",
                            models.CharField(
                                max_length=200,
                                primary_key=True,
                                serialize=False,
                                verbose_name="nom d'hôte",
                            ),
                        ),
                        (
                            "seen_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now, verbose_name="vu le"
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "signal de vie d'un worker",
                        "verbose_name_plural": "signaux de vie des workers",
                        "db_table": "alliance_workerheartbeat",
                    },
                ),
            ],
        ),
        # After the state knows the model, so that the function can build its table.
        migrations.RunPython(create_table_unless_there, drop_table),
    ]
