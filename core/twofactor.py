"""Two-factor authentication for staff, with django-two-factor-auth on django-otp.

The library brings the login wizard (password, then a TOTP code or a recovery
code), the enrolment wizard with its QR code, the devices and their throttling.
This module adds what the site decides:

- the admin asks for a verified second factor only while `STAFF_REQUIRE_2FA` is
  on, read at each request (`StaffAdminSite`);
- recovery codes are issued at enrolment and shown once, never listed again:
  the library would list the remaining ones on every visit.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp.decorators import otp_required
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from two_factor.utils import default_device

RECOVERY_CODE_COUNT = 10
# Session keys: codes waiting to be shown once, and where to go after enrolment.
_FRESH_CODES = "two_factor_fresh_recovery_codes"
_NEXT = "two_factor_next"


class StaffAdminSite(admin.AdminSite):
    """The admin, closed to staff without a verified second factor when required."""

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        return not settings.STAFF_REQUIRE_2FA or request.user.is_verified()

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """The admin's own password form, unless a second factor is required: then the
        two-factor login, or enrolment for a signed-in staff member who has no device."""
        if not settings.STAFF_REQUIRE_2FA or self.has_permission(request):
            return super().login(request, extra_context)
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
        user = request.user
        if user.is_authenticated and user.is_staff and default_device(user) is None:
            return redirect_to_login(next_url, reverse("two_factor:setup"))
        return redirect_to_login(next_url, reverse("two_factor:login"))


def issue_recovery_codes(*, user: AbstractBaseUser) -> list[str]:
    """Replace the user's recovery codes with a new set and return it, in clear.

    Side effects: creates the user's static device ("backup", the library's name)
    if missing and deletes its previous codes. django-otp keeps the codes in the
    database and deletes each one as it is used, so each code works once.
    """
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(user=user, name="backup")
        device.token_set.all().delete()
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@never_cache
@otp_required
def enrolment_complete(request: HttpRequest) -> HttpResponse:
    """The end of enrolment: the recovery codes once, then on to where the user was going."""
    context = {
        "codes": request.session.pop(_FRESH_CODES, None),
        "next_url": request.session.pop(_NEXT, None) or reverse("admin:index"),
    }
    return render(request, "two_factor/core/setup_complete.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@otp_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Shows how many codes are left; a POST replaces them, shown on the next GET only."""
    if request.method == "POST":
        request.session[_FRESH_CODES] = issue_recovery_codes(user=request.user)
        return redirect("two_factor:backup_tokens")
    context = {
        "codes": request.session.pop(_FRESH_CODES, None),
        "remaining": StaticToken.objects.filter(device__user=request.user).count(),
    }
    return render(request, "two_factor/core/backup_tokens.html", context)


def _wizard(name: str):
    """The library's view `name` (core/twofactor_wizards.py), imported at its first
    request: those views bring qrcode, Pillow and django-formtools, which every web
    process would otherwise carry for pages that only staff open, and rarely."""

    def view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        from . import twofactor_wizards  # noqa: PLC0415

        return getattr(twofactor_wizards, name)(request, *args, **kwargs)

    return view


# Included under the "two_factor" namespace, whose URL names the library's views use.
urls = [
    path("connexion/", _wizard("login"), name="login"),
    path("double-authentification/", _wizard("profile"), name="profile"),
    path("double-authentification/activer/", _wizard("setup"), name="setup"),
    path("double-authentification/qrcode/", _wizard("qr"), name="qr"),
    path("double-authentification/activee/", enrolment_complete, name="setup_complete"),
    path("double-authentification/codes-de-secours/", recovery_codes, name="backup_tokens"),
    path("double-authentification/desactiver/", _wizard("disable"), name="disable"),
]
