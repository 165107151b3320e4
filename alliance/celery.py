"""Celery application: configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")

# Autodiscovery imports each app's tasks.py. The retention task lives in
# signatures/retention.py, which calls services, which import tasks.py: listed
# here, the worker imports it too.
app = Celery("alliance", include=["signatures.retention"])
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
