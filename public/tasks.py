"""Celery tasks of the contact form, dispatched after commit by public.services.

No row holds a contact message, so its fields travel as plain strings and
nothing records a failure: a final one is logged (without the address). A
worker killed mid-send may send a message twice; nothing guards against that.
"""

import logging

from celery import shared_task
from django.conf import settings

from core.mail import MAX_EMAIL_RETRIES, TRANSIENT_ERRORS, backoff, is_transient

from . import emails

logger = logging.getLogger(__name__)


def _send(task, send, what: str) -> None:
    """Retry transient SMTP errors with backoff; log a final failure."""
    try:
        send()
    except TRANSIENT_ERRORS as exc:
        if is_transient(exc) and task.request.retries < MAX_EMAIL_RETRIES:
            raise task.retry(exc=exc, countdown=backoff(task.request.retries)) from None
        # The type only: an SMTP refusal's text names the recipient.
        logger.error("%s cannot be sent: %s", what, type(exc).__name__)


@shared_task(name="public.send_contact_message", bind=True, max_retries=MAX_EMAIL_RETRIES)
def send_contact_message(self, name: str, email: str, subject: str, message: str) -> None:
    if not settings.CONTACT_EMAIL:  # unset since the message was queued: nowhere to send it
        logger.warning("Contact message dropped: CONTACT_EMAIL is not set")
        return
    _send(
        self,
        lambda: emails.send_contact_message(
            name=name, email=email, subject=subject, message=message
        ),
        "Contact message",
    )


@shared_task(name="public.send_contact_copy", bind=True, max_retries=MAX_EMAIL_RETRIES)
def send_contact_copy(self, email: str, subject: str, name: str = "", message: str = "") -> None:
    """The sender's acknowledgement. `name` and `message` are ignored: only copies queued
    before the acknowledgement dropped them still carry them."""
    _send(
        self,
        lambda: emails.send_contact_copy(email=email, subject=subject),
        "Acknowledgement of a contact message",
    )
