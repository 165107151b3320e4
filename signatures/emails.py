"""One function per email: subject, plain text and HTML from templates/emails/."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .models import CONFIRMATION_VALID_DAYS, ModerationEvent, Signature


def _send(template: str, context: dict, to: str) -> None:
    # Emails go out in French, the language of the product, whatever the worker's locale.
    with translation.override("fr"):
        subject = render_to_string(f"emails/{template}-subject.txt", context).strip()
        text = render_to_string(f"emails/{template}-body.txt", context)
        html = render_to_string(f"emails/{template}-body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()


def send_confirmation(signature: Signature) -> None:
    path = reverse("signatures:confirm", kwargs={"token": signature.make_confirmation_token()})
    _send(
        "confirmation",
        {
            "signature": signature,
            "declaration": signature.declaration,
            "territory": signature.territory,
            "confirm_url": f"{settings.SITE_URL}{path}",
            "resend_url": f"{settings.SITE_URL}{reverse('signatures:resend')}",
            "valid_days": CONFIRMATION_VALID_DAYS,
        },
        to=signature.email,
    )


def send_decision(event: ModerationEvent) -> None:
    """The signatory learns the moderators' decision: published, or refused and why."""
    signature = event.signature
    template = {
        ModerationEvent.Action.APPROVE: "signature-published",
        ModerationEvent.Action.REJECT: "signature-rejected",
    }[event.action]
    list_path = reverse("public:list", kwargs={"slug": signature.declaration.slug})
    _send(
        template,
        {
            "signature": signature,
            "declaration": signature.declaration,
            "territory": signature.territory,
            "event": event,
            "list_url": f"{settings.SITE_URL}{list_path}",
            "contact_email": settings.CONTACT_EMAIL,
        },
        to=signature.email,
    )
