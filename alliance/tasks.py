from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "worker-heartbeat"


@shared_task(name="alliance.heartbeat", ignore_result=False)
def heartbeat() -> str:
    """Record that a worker is consuming the queue; /healthz reports its age."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now
