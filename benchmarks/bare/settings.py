"""Settings of the bare view: no database, no templates, one URL.

BARE_MIDDLEWARE=none serves it with no middleware at all; BARE_MIDDLEWARE=default
with the middleware of a new Django project (`startproject`), whose sessions and
messages live in signed cookies so that no database is needed.
"""

import os

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "bare-view-benchmark-only-not-a-secret-0123456789")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "benchmarks.bare.urls"
WSGI_APPLICATION = "benchmarks.bare.wsgi.application"
USE_TZ = True
DATABASES = {}

DEFAULT_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
_CHOICE = os.environ.get("BARE_MIDDLEWARE", "none")
if _CHOICE not in ("none", "default"):
    raise ValueError("BARE_MIDDLEWARE must be none or default.")
MIDDLEWARE = DEFAULT_MIDDLEWARE if _CHOICE == "default" else []
INSTALLED_APPS = (
    [
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
    ]
    if MIDDLEWARE
    else []
)
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
