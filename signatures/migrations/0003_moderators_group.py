"""The "Modérateurs" group: see and moderate signatures, nothing more.

They may read declarations and territories (to judge), but not edit
declarations, delete signatures, export them or manage users.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Modérateurs"
PERMISSIONS = [
    ("signatures", "view_signature"),
    ("signatures", "moderate_signature"),
    ("signatures", "view_moderationqueue"),
    ("signatures", "view_moderationevent"),
    ("signatures", "view_flag"),
    ("territories", "view_territory"),
    ("declarations", "view_declaration"),
    ("declarations", "view_network"),
]


def create_group(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, codename in PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("signatures", "0002_moderation"),
        ("territories", "0003_code_index"),
        ("declarations", "0002_alliance_des_territoires"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
