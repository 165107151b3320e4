"""Staff two-factor authentication: the admin's gate, enrolment, TOTP and recovery codes."""

import os
import re
import subprocess
import sys
from base64 import b32decode
from html import unescape
from pathlib import Path

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.twofactor import RECOVERY_CODE_COUNT, issue_recovery_codes
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "mot-de-passe-de-test"  # tests.factories.UserFactory's
ADMIN = reverse("admin:index")
LOGIN = reverse("two_factor:login")
SETUP = reverse("two_factor:setup")
# Inline scripts, inline styles and event handler attributes, all refused by our CSP.
CSP_VIOLATION = re.compile(r"<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=", re.IGNORECASE)


@pytest.fixture
def required(settings):
    settings.STAFF_REQUIRE_2FA = True


@pytest.fixture
def staff():
    return UserFactory(username="moderatrice")


@pytest.fixture
def device(staff):
    return TOTPDevice.objects.create(user=staff, name="default", confirmed=True)


def _code(key: bytes) -> str:
    """The code an authenticator app shows now for this key."""
    return f"{totp(key, step=30, t0=0, digits=6, drift=0):06d}"


def _password_step(client, username="moderatrice", password=PASSWORD):
    return client.post(
        f"{LOGIN}?next={ADMIN}",
        {"login_view-current_step": "auth", "auth-username": username, "auth-password": password},
    )


def _page(response) -> str:
    """The page's text, once checked for what the CSP would block."""
    html = response.content.decode()
    assert not CSP_VIOLATION.search(html), CSP_VIOLATION.search(html).group()
    return unescape(html)


def test_staff_with_a_password_only_session_is_sent_to_the_code_step(client, required, device):
    client.force_login(device.user)  # password checked, no second factor
    response = client.get(ADMIN, follow=True)
    assert response.redirect_chain[-1][0] == f"{LOGIN}?next={ADMIN}"
    html = _page(response)
    assert "Connexion à l'administration" in html
    assert "Modération et contenus" not in html


def test_admin_password_form_does_not_open_the_admin_when_2fa_is_required(
    client, required, device
):
    response = client.post(
        reverse("admin:login"), {"username": "moderatrice", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session


def test_staff_logs_in_with_password_and_totp_code(client, required, device):
    response = _password_step(client)
    assert "Saisissez le code à 6 chiffres" in _page(response)
    assert "_auth_user_id" not in client.session

    response = client.post(
        f"{LOGIN}?next={ADMIN}",
        {"login_view-current_step": "token", "token-otp_token": _code(device.bin_key)},
    )
    assert response["Location"] == ADMIN
    response = client.get(ADMIN)
    assert response.status_code == 200
    assert "Modération et contenus" in response.content.decode()
    assert client.session["otp_device_id"] == device.persistent_id


def test_wrong_totp_code_is_refused_in_french(client, required, device):
    _password_step(client)
    wrong = f"{(int(_code(device.bin_key)) + 1) % 1_000_000:06d}"
    response = client.post(
        f"{LOGIN}?next={ADMIN}", {"login_view-current_step": "token", "token-otp_token": wrong}
    )
    assert response.status_code == 200
    assert "Jeton non valable" in _page(response)
    assert "_auth_user_id" not in client.session
    assert client.get(ADMIN)["Location"].startswith(reverse("admin:login"))


def test_staff_without_device_enrols_gets_recovery_codes_and_reaches_the_admin(
    client, required, staff
):
    response = client.get(ADMIN, follow=True)
    assert response.redirect_chain[-1][0] == f"{LOGIN}?next={ADMIN}"
    response = _password_step(client)
    assert response["Location"] == ADMIN  # signed in, but the admin still asks for 2FA
    response = client.get(ADMIN, follow=True)
    assert response.redirect_chain[-1][0] == f"{SETUP}?next={ADMIN}"
    assert "Activer la double authentification" in _page(response)

    response = client.post(f"{SETUP}?next={ADMIN}", {"enrolment_view-current_step": "welcome"})
    html = _page(response)
    assert "Scannez ce QR code" in html
    secret = response.context["secret_key"]
    assert secret in html
    qr = client.get(reverse("two_factor:qr"))
    assert qr["Content-Type"].startswith("image/svg+xml")

    response = client.post(
        f"{SETUP}?next={ADMIN}",
        {"enrolment_view-current_step": "generator", "generator-token": _code(b32decode(secret))},
        follow=True,
    )
    html = _page(response)
    assert "Double authentification activée" in html
    device = TOTPDevice.objects.get(user=staff)
    assert device.confirmed
    assert device.name == "default"
    codes = set(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))
    assert len(codes) == RECOVERY_CODE_COUNT
    assert all(code in html for code in codes)
    assert f'href="{ADMIN}"' in html  # "Continuer" goes where the moderator was going

    assert "Modération et contenus" in client.get(ADMIN).content.decode()
    again = client.get(reverse("two_factor:setup_complete")).content.decode()
    assert not any(code in again for code in codes)  # shown once


def test_recovery_code_works_once(client, required, device):
    code = issue_recovery_codes(user=device.user)[0]

    def log_in_with(recovery_code):
        client.logout()
        _password_step(client)
        response = client.post(f"{LOGIN}?next={ADMIN}", {"wizard_goto_step": "backup"})
        assert "Saisissez l'un de vos codes de secours" in _page(response)
        return client.post(
            f"{LOGIN}?next={ADMIN}",
            {"login_view-current_step": "backup", "backup-otp_token": recovery_code},
        )

    assert log_in_with(code)["Location"] == ADMIN
    assert "Modération et contenus" in client.get(ADMIN).content.decode()
    assert not StaticToken.objects.filter(token=code).exists()
    assert StaticToken.objects.filter(device__user=device.user).count() == RECOVERY_CODE_COUNT - 1

    response = log_in_with(code)
    assert response.status_code == 200
    assert "Jeton non valable" in _page(response)
    assert "_auth_user_id" not in client.session


def test_new_recovery_codes_replace_the_old_ones_and_show_once(client, required, device):
    old = issue_recovery_codes(user=device.user)
    _password_step(client)
    client.post(
        LOGIN, {"login_view-current_step": "token", "token-otp_token": _code(device.bin_key)}
    )
    page = reverse("two_factor:backup_tokens")
    assert "Il vous reste 10 codes de secours" in _page(client.get(page))

    response = client.post(page, follow=True)
    new = list(
        StaticToken.objects.filter(device__user=device.user).values_list("token", flat=True)
    )
    assert len(new) == RECOVERY_CODE_COUNT
    assert not set(old) & set(new)
    html = _page(response)
    assert all(code in html for code in new)
    html = client.get(page).content.decode()
    assert not any(code in html for code in new)
    assert "Il vous reste 10 codes de secours" in html


def test_admin_works_with_a_password_alone_when_2fa_is_not_required(client, settings, device):
    settings.STAFF_REQUIRE_2FA = False
    response = client.post(
        f"{reverse('admin:login')}?next={ADMIN}",
        {"username": "moderatrice", "password": PASSWORD, "next": ADMIN},
        follow=True,
    )
    assert response.redirect_chain == [(ADMIN, 302)]
    assert "Modération et contenus" in response.content.decode()
    # Enrolment stays open to anyone signed in.
    assert "Double authentification" in _page(client.get(reverse("two_factor:profile")))


def test_two_factor_login_locks_out_after_repeated_password_failures(client, required, device):
    for _ in range(5):
        _password_step(client, password="mauvais")
    response = _password_step(client)
    assert response.status_code == 429
    assert "Saisissez le code" not in response.content.decode()


@pytest.mark.parametrize(
    ("env", "expected"),
    [({"DEBUG": "0"}, "True"), ({"DEBUG": "1"}, "False"), ({"STAFF_REQUIRE_2FA": "1"}, "True")],
)
def test_staff_require_2fa_defaults_to_on_in_production(env, expected):
    root = Path(__file__).resolve().parents[2]
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "STAFF_REQUIRE_2FA"}}
    production = {
        "DEBUG": "1",  # overridden by env
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "alliance.example.org",
        "SITE_URL": "https://alliance.example.org",
    }
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-v0",
            "-c",
            "from django.conf import settings; print(settings.STAFF_REQUIRE_2FA)",
        ],
        cwd=root,
        env={**clean, **production, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.strip() == expected, result.stderr
