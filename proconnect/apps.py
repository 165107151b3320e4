from django.apps import AppConfig


class ProconnectConfig(AppConfig):
    name = "proconnect"
    verbose_name = "ProConnect"
