from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicConfig(AppConfig):
    """What the public reads: no models, only views over `signatures`' published rows."""

    name = "public"
    verbose_name = _("Pages publiques")
