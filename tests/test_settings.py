"""Production settings, checked in a fresh interpreter as a deployment would load them."""

import subprocess
import sys

import pytest
from django.db import connection

from tests.processes import production_env, run


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", *args], **env)


def test_production_refuses_to_start_without_secret_key():
    result = _manage("check", DEBUG="0", ALLOWED_HOSTS="alliance.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_settings_pass_the_deployment_checklist():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_generates_and_keeps_a_secret_key(tmp_path):
    print_key = "from django.conf import settings; print(settings.SECRET_KEY)"
    first, second = (
        _manage("shell", "-v0", "-c", print_key, DEBUG="1", VAR_DIR=str(tmp_path))
        for _run in range(2)
    )
    assert first.returncode == 0, first.stderr
    assert len(first.stdout.strip()) >= 50
    assert first.stdout == second.stdout
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_bad_boolean_in_environment_fails_loudly():
    result = _manage("check", DEBUG="peut-etre")
    assert result.returncode != 0


def test_emails_default_to_files_under_var_mail(tmp_path):
    code = (
        "from django.conf import settings; print(settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH)"
    )
    result = _manage("shell", "-v0", "-c", code, DEBUG="1", VAR_DIR=str(tmp_path), EMAIL_URL="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.mail.backends.filebased.EmailBackend",
        str(tmp_path / "mail"),
    ]


def test_email_url_configures_smtp():
    code = (
        "from django.conf import settings; "
        "print(settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT)"
    )
    result = _manage(
        "shell", "-v0", "-c", code, DEBUG="1", EMAIL_URL="smtp://mail.example.org:2525"
    )
    assert result.stdout.split() == [
        "django.core.mail.backends.smtp.EmailBackend",
        "mail.example.org",
        "2525",
    ]


def _database_options(url: str) -> str:
    code = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
    result = _manage("shell", "-v0", "-c", code, DEBUG="1", DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_postgresql_connections_compile_no_query_just_in_time():
    assert _database_options("postgres://u@db.example.org/alliance") == (
        "{'options': '-c jit=off'}"
    )
    # An operator's own choice in the URL stands.
    url = "postgres://u@db.example.org/alliance?options=-c%20jit%3Don"
    assert _database_options(url) == "{'options': '-c jit=on'}"


@pytest.mark.postgres
def test_the_live_database_connection_runs_without_jit(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
