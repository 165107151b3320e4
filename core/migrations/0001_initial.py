"""WorkerHeartbeat, moved here from the `alliance` app with its table.

A database made before the move already has `alliance_workerheartbeat` (the old
app's migrations created it): the model takes it over as it is, with the old
app's content type (and so its permissions). A new database gets the table here.
"""

import django.utils.timezone
from django.db import migrations, models


def create_table_unless_there(apps, schema_editor):
    model = apps.get_model("core", "WorkerHeartbeat")
    if model._meta.db_table not in schema_editor.connection.introspection.table_names():
        schema_editor.create_model(model)


def adopt_content_type(apps, schema_editor):
    """The old app's content type becomes core's, so its permissions stay granted."""
    content_types = apps.get_model("contenttypes", "ContentType").objects.using(
        schema_editor.connection.alias
    )
    if not content_types.filter(app_label="core", model="workerheartbeat").exists():
        content_types.filter(app_label="alliance", model="workerheartbeat").update(
            app_label="core"
        )


def drop_table(apps, schema_editor):
    schema_editor.delete_model(apps.get_model("core", "WorkerHeartbeat"))


class Migration(migrations.Migration):
    initial = True

    dependencies = [("contenttypes", "0002_remove_content_type_name")]

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
        migrations.RunPython(adopt_content_type, migrations.RunPython.noop),
    ]
