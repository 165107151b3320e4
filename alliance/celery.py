"""Celery application: configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery, signals
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")

# Autodiscovery imports each app's tasks.py. The retention task lives in
# signatures/retention.py, which calls services, which import tasks.py: listed
# here, the worker imports it too.
app = Celery("alliance", include=["signatures.retention"])
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def reuse_database_connection(task=None, **kwargs) -> None:
    """Treat each task as Django treats a request: keep the connection for CONN_MAX_AGE,
    check it before its first query (CONN_HEALTH_CHECKS), drop it after an error.

    Celery's own Django fixup closes it around every task unless CELERY_DB_REUSE_MAX is
    set (settings.py sets it): a new connection per email was a sixth of the task's time,
    and a new PostgreSQL backend process each time. Eager tasks run inside the caller's
    request or transaction, which owns the connection.
    """
    if task is not None and task.request.is_eager:
        return
    close_old_connections()
