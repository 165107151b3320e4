"""How much memory a web process holds once the application and its URLs are loaded.

    .venv/bin/python benchmarks/web_process_memory.py

What gunicorn's master holds before it forks its workers (`preload_app`), and so
the floor of each worker's RSS. Production settings (DEBUG off), no request served;
PostgreSQL and Redis are named, so their client libraries load, but not reached.
Prints the resident memory and the packages with the most modules loaded.
"""

import collections
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import sys
def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024
before = rss()
import alliance.wsgi
from django.urls import get_resolver
get_resolver().url_patterns
print(f"{before:.1f} {rss():.1f}")
print(" ".join(sorted(sys.modules)))
"""


def main() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "alliance.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "alliance.example.org",
        "SITE_URL": "https://alliance.example.org",
        "DATABASE_URL": "postgres://alliance@127.0.0.1:5432/alliance",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-W", "ignore", "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    sizes, modules = result.stdout.splitlines()
    before, after = (float(value) for value in sizes.split())
    print(f"Interpreter alone: {before:.1f} MiB RSS; application and URLs loaded: {after:.1f} MiB")
    packages = collections.Counter(name.split(".")[0] for name in modules.split())
    ours = {path.parent.name for path in ROOT.glob("*/__init__.py")}  # the project's packages
    listed = [(name, count) for name, count in packages.most_common() if name not in ours]
    print("Most modules loaded, by package:", ", ".join(f"{n} {c}" for n, c in listed[:15]))


if __name__ == "__main__":
    main()
