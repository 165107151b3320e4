"""A fresh process started as a deployment starts it: no test-only variables."""

import os
import secrets
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Set by the test run itself (the browser tests allow async-unsafe calls).
TEST_ONLY = {"SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def production_env() -> dict[str, str]:
    """What a production deployment must set, with a key of its own."""
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "alliance.example.org",
        "SITE_URL": "https://alliance.example.org",
    }


def run(command: list[str], **env: str) -> subprocess.CompletedProcess:
    """Run `command` in the repository with this environment over the clean one."""
    clean = {k: v for k, v in os.environ.items() if k not in TEST_ONLY}
    return subprocess.run(  # noqa: S603 - our own interpreter, tools and code
        command,
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
