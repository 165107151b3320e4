"""The contact form's emails: subject, plain text and HTML from templates/emails/."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from .forms import ContactSubject


def _send(template: str, context: dict, *, to: str, reply_to: str | None = None) -> None:
    # In French, the language of the product, whatever the worker's locale.
    with translation.override("fr"):
        subject = render_to_string(f"emails/{template}-subject.txt", context).strip()
        text = render_to_string(f"emails/{template}-body.txt", context)
        html = render_to_string(f"emails/{template}-body.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=[to], reply_to=[reply_to] if reply_to else None
    )
    message.attach_alternative(html, "text/html")
    message.send()


def _context(*, name: str, email: str, subject: str, message: str) -> dict:
    return {
        "name": name,
        "email": email,
        "subject_label": ContactSubject(subject).label,
        "message": message,
    }


def send_contact_message(*, name: str, email: str, subject: str, message: str) -> None:
    """To CONTACT_EMAIL, replying to the sender."""
    context = _context(name=name, email=email, subject=subject, message=message)
    _send("contact-message", context, to=settings.CONTACT_EMAIL, reply_to=email)


def send_contact_copy(*, name: str, email: str, subject: str, message: str) -> None:
    """The sender's copy of what they wrote."""
    context = _context(name=name, email=email, subject=subject, message=message)
    _send("contact-copy", context, to=email)
