from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


def _forget_sign_page(**_signal) -> None:
    """The sign page keeps the declaration and its blank form a minute per process."""
    from .views.sign import clear_blank_forms  # noqa: PLC0415 - only processes that save one

    clear_blank_forms()


class SignaturesConfig(AppConfig):
    name = "signatures"
    verbose_name = _("Signatures")

    def ready(self):
        from declarations.models import Declaration  # noqa: PLC0415 - apps are loaded now

        for signal in (post_save, post_delete):
            signal.connect(_forget_sign_page, sender=Declaration, dispatch_uid="sign-page")
