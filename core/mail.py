"""How every email of the site leaves: rendered from its templates, sent on the worker's
reused SMTP connection; and what a failed send means (try again later, or never)."""

import contextlib
import smtplib
import threading

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import translation

# Tries of an email task after the first, spaced by backoff(): 10 s, 20 s, … 320 s,
# ten minutes and a half in all.
MAX_EMAIL_RETRIES = 6

# What a failed SMTP exchange may raise; is_transient sorts them.
TRANSIENT_ERRORS = (smtplib.SMTPException, OSError)


def send_templated(
    template: str, context: dict, *, to: str | list[str], reply_to: str | None = None
) -> None:
    """Send templates/emails/<template>-subject.txt, -body.txt and -body.html.

    Rendered in French, the language of the product, whatever the worker's locale.
    SMTP errors go up to the caller, for is_transient to sort.
    """
    with translation.override("fr"):
        subject = render_to_string(f"emails/{template}-subject.txt", context).strip()
        text = render_to_string(f"emails/{template}-body.txt", context)
        html = render_to_string(f"emails/{template}-body.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[to] if isinstance(to, str) else to,
        reply_to=[reply_to] if reply_to else None,
    )
    message.attach_alternative(html, "text/html")
    _smtp.send(message)


def is_transient(exc: Exception) -> bool:
    """Worth another try: the server said "later" (4xx), hung up, or the network failed."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, smtplib.SMTPServerDisconnected | OSError)


def backoff(retries: int) -> int:
    """Seconds before the next try after a transient error: 10 s, 20 s, … at most 10 min."""
    return min(600, 10 * 2**retries)


class _ReusedConnection(threading.local):
    """One open SMTP connection per worker process, reused from one email to the next.

    Opening a connection (TCP, EHLO, STARTTLS, AUTH) cost more than sending the
    message. A connection the server closed meanwhile is reopened once; any other
    error drops it and goes up to the caller, which tells transient from final.
    Other backends (files in development, memory in tests) send as before.
    """

    connection = None
    server = None  # where it is open: settings may name another server since (tests do)

    def send(self, message) -> None:
        if not settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
            message.send()
            return
        server = (settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_HOST_USER)
        if server != self.server:
            self.drop()
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = get_connection(fail_silently=False)
                self.connection.open()
                self.server = server
            message.connection = self.connection
            try:
                message.send()
                return
            except smtplib.SMTPServerDisconnected:
                self.drop()
                if attempt == 2:
                    raise
            except Exception:
                self.drop()
                raise

    def drop(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):  # already broken
                connection.close()


_smtp = _ReusedConnection()
