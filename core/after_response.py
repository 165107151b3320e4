"""Work that a request leaves for after its response has gone: the client does not wait.

Queueing a Celery task is a round trip to Redis and about a millisecond of
Python; the signing POST does it twice. Done once the response is sent (the
WSGI server closes the response, Django sends `request_finished`), it no
longer delays the page. Only for work whose loss the site can recover from:
a process that dies in between loses the job, so its caller keeps a durable
trace (a signature's `confirmation_queued_at`, which sweep_unsent_emails
reads) or the work is redone anyway (refresh_due_proofs runs every minute).
"""

import contextvars
import logging
from collections.abc import Callable

from django.core.signals import request_finished, request_started
from django.db import transaction

logger = logging.getLogger(__name__)

# The jobs of the request being served in this thread (or task), None outside a request.
_jobs: contextvars.ContextVar[list[Callable[[], object]] | None] = contextvars.ContextVar(
    "after_response_jobs", default=None
)


def after_response(job: Callable[[], object]) -> None:
    """Run `job` once the current response has been sent; at once outside a request."""
    jobs = _jobs.get()
    if jobs is None:
        _run(job)
    else:
        jobs.append(job)


def after_commit_and_response(job: Callable[[], object]) -> None:
    """Run `job` once the transaction has committed and the response has been sent."""
    transaction.on_commit(lambda: after_response(job), robust=True)


def _run(job: Callable[[], object]) -> None:
    # Logged, never raised, as on_commit(robust=True) does: a broker outage must not
    # turn a saved signature into an error page, nor break the closing of a response.
    try:
        job()
    except Exception:
        logger.exception("Work after the response failed: %r", job)


def _start(**_signal) -> None:
    _jobs.set([])


def _finish(**_signal) -> None:
    jobs = _jobs.get()
    _jobs.set(None)
    for job in jobs or ():
        _run(job)


request_started.connect(_start, dispatch_uid="after-response-start")
request_finished.connect(_finish, dispatch_uid="after-response-finish")
