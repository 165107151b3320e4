"""What a production web process loads: libraries that one rare view needs stay out of it.

Each gunicorn worker (three in the Dockerfile) would otherwise carry them from its start:
Authlib with cryptography and requests (ProConnect sign-in) 15 MiB, pypdf 28 MiB (checking
a deliberation), reportlab 14 MiB (the attestation); django-import-export, openpyxl, Pillow,
qrcode and django-formtools (the exports, the link-preview picture the worker draws, the
staff's two-factor wizards) 11 MiB together. docs/performance.md has the figures.
"""

import sys

from tests.processes import production_env, run

LAZY = (
    *("authlib", "joserfc", "requests", "pypdf", "reportlab"),
    *("import_export.admin", "openpyxl", "PIL", "qrcode", "formtools"),
)


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
    result = run(
        [sys.executable, "-W", "ignore", "-c", script],
        DJANGO_SETTINGS_MODULE="alliance.settings",
        **production_env(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
