from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class SignaturesConfig(AppConfig):
    name = "signatures"
    verbose_name = _("Signatures")

    def ready(self):
        from declarations.models import Declaration  # noqa: PLC0415 - apps are loaded now

        from .views import clear_blank_forms  # noqa: PLC0415

        # The sign page keeps the declaration and its blank form a minute per process.
        for signal in (post_save, post_delete):
            signal.connect(clear_blank_forms, sender=Declaration, dispatch_uid="blank-forms")
