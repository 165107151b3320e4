"""Moderators read contests and corrections: they show inline on the signature page."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Modérateurs"
PERMISSIONS = ["view_contest", "view_correction"]


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for codename in PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label="signatures", codename=codename)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP).first()
    if group:
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="signatures", codename__in=PERMISSIONS
            )
        )


class Migration(migrations.Migration):
    dependencies = [("signatures", "0010_corrected_at")]

    operations = [migrations.RunPython(grant, revoke)]
