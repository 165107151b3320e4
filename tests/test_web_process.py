"""What a production web process loads: libraries that one rare view needs stay out of it.

Each gunicorn worker (three in the Dockerfile) would otherwise carry them from its start:
Authlib with cryptography and requests (ProConnect sign-in) 15 MiB, pypdf 28 MiB (checking
a deliberation), reportlab 14 MiB (the attestation). docs/performance.md has the figures.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAZY = ("authlib", "joserfc", "requests", "pypdf", "reportlab")


def test_loaded_web_application_leaves_rarely_used_libraries_unimported():
    script = "\n".join(
        [
            "import sys",
            "import alliance.wsgi",
            "from django.urls import get_resolver",
            "get_resolver().url_patterns",
            f"print(','.join(m for m in {LAZY!r} if m in sys.modules))",
        ]
    )
    unwanted = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unwanted} | {
        "DJANGO_SETTINGS_MODULE": "alliance.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "alliance.example.org",
        "SITE_URL": "https://alliance.example.org",
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-W", "ignore", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
