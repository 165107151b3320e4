"""The contact form's emails: subject, plain text and HTML from templates/emails/."""

from django.conf import settings

from core.mail import send_templated

from .forms import ContactSubject


def send_contact_message(*, name: str, email: str, subject: str, message: str) -> None:
    """To CONTACT_EMAIL, replying to the sender: everything they typed."""
    send_templated(
        "contact-message",
        {
            "name": name,
            "email": email,
            "subject_label": ContactSubject(subject).label,
            "message": message,
        },
        to=settings.CONTACT_EMAIL,
        reply_to=email,
    )


def send_contact_copy(*, email: str, subject: str) -> None:
    """The sender's acknowledgement: the subject they chose, nothing they typed.

    Anybody may type anybody's address in the form, so this email carries only our
    own words: neither the message nor the name (a name can hold a sentence too).
    """
    send_templated("contact-copy", {"subject_label": ContactSubject(subject).label}, to=email)
