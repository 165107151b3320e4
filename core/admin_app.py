"""Django's admin, discovering the admin module of every installed app but one."""

from importlib import import_module

from django.apps import apps
from django.contrib.admin.apps import SimpleAdminConfig
from django.utils.module_loading import module_has_submodule

# django-import-export's admin module registers nothing: it holds the mixins that the
# signatures' export page imports when used (moderation/exports.py). Importing it
# probes every spreadsheet format, which loads openpyxl and Pillow: about 20 MiB in
# each web process for a page that moderators open now and then.
NOT_DISCOVERED = {"import_export"}


class AdminConfig(SimpleAdminConfig):
    def ready(self):
        super().ready()
        for app_config in apps.get_app_configs():
            if app_config.name not in NOT_DISCOVERED and module_has_submodule(
                app_config.module, "admin"
            ):
                import_module(f"{app_config.name}.admin")
