from celery import shared_task
from django.utils import timezone

from .models import WorkerHeartbeat
from .resilience import DATABASE_RESTART_ERRORS


@shared_task(
    name="alliance.heartbeat",
    bind=True,
    autoretry_for=DATABASE_RESTART_ERRORS,
    retry_backoff=1,
    max_retries=3,
)
def heartbeat(self) -> str:
    """Record that this worker is consuming the queue; /healthz reports the age."""
    hostname = self.request.hostname or "eager"
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": now})
    return now.isoformat()
