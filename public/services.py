"""The contact form's one workflow: queue the message, and the sender's copy if caps allow."""

import logging

from django.db import transaction
from django.utils import timezone

from signatures.models import OutgoingEmail, source_hash

from . import tasks

logger = logging.getLogger(__name__)


def submit_contact_message(*, name: str, email: str, subject: str, message: str) -> bool:
    """Send a contact message to CONTACT_EMAIL and a copy to its sender; True if the copy goes.

    Side effects: after commit, queues the message to settings.CONTACT_EMAIL
    (replying to the sender). Records one email to the sender against their
    address's caps (OutgoingEmail.claim) and, when the caps allow it, queues the
    copy after commit: whoever typed somebody else's address cannot use the
    copies to flood them. The contact address itself is not capped (the form's
    rate limit protects it). The message is stored nowhere but in the emails.
    """
    fields = {"name": name, "email": email, "subject": subject, "message": message}
    with transaction.atomic():
        # robust: with the broker down the page still answers and Django logs the lost
        # task; no row is left for a sweeper to send later.
        transaction.on_commit(lambda: tasks.send_contact_message.delay(**fields), robust=True)
        has_copy = OutgoingEmail.objects.claim(email=email, kind="contact", now=timezone.now())
        if has_copy:
            transaction.on_commit(lambda: tasks.send_contact_copy.delay(**fields), robust=True)
        else:
            # Never the address in logs: its hash is enough to follow a pattern.
            logger.warning("Email cap reached for recipient %s", source_hash(email)[:12])
    return has_copy
