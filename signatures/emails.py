"""One function per email: subject, plain text and HTML from templates/emails/."""

import contextlib
import smtplib
import threading

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .models import CONFIRMATION_VALID_DAYS, Contest, ModerationEvent, Signature

User = get_user_model()
MODERATORS_GROUP = "Modérateurs"  # created by migration 0003_moderators_group


def _send(template: str, context: dict, to: str | list[str]) -> None:
    # Emails go out in French, the language of the product, whatever the worker's locale.
    with translation.override("fr"):
        subject = render_to_string(f"emails/{template}-subject.txt", context).strip()
        text = render_to_string(f"emails/{template}-body.txt", context)
        html = render_to_string(f"emails/{template}-body.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=[to] if isinstance(to, str) else to
    )
    message.attach_alternative(html, "text/html")
    _smtp.send(message)


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


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _signatory_context(signature: Signature) -> dict:
    """What every email to a signatory shows: the signature, and their personal link."""
    token = signature.make_manage_token()
    return {
        "signature": signature,
        "declaration": signature.declaration,
        "territory": signature.territory,
        "manage_url": _absolute(reverse("signatures:manage", kwargs={"token": token})),
        "contact_email": settings.CONTACT_EMAIL,
    }


def send_confirmation(signature: Signature) -> None:
    path = reverse("signatures:confirm", kwargs={"token": signature.make_confirmation_token()})
    _send(
        "confirmation",
        {
            **_signatory_context(signature),
            "confirm_url": _absolute(path),
            "resend_url": _absolute(reverse("signatures:resend")),
            "moderation_days": settings.MODERATION_DELAY_DAYS,
            "valid_days": CONFIRMATION_VALID_DAYS,
        },
        to=signature.email,
    )


def send_decision(event: ModerationEvent) -> None:
    """The signatory learns the decision: published, refused and why, or withdrawn."""
    signature = event.signature
    template = {
        ModerationEvent.Action.APPROVE: "signature-published",
        ModerationEvent.Action.REJECT: "signature-rejected",
        ModerationEvent.Action.WITHDRAW: "signature-withdrawn",
    }[event.action]
    list_path = reverse("public:list", kwargs={"slug": signature.declaration.slug})
    sign_path = reverse("signatures:sign", kwargs={"slug": signature.declaration.slug})
    _send(
        template,
        {
            **_signatory_context(signature),
            "event": event,
            "list_url": _absolute(list_path),
            "attestation_url": _absolute(
                reverse("public:attestation", kwargs={"public_id": signature.public_id})
            ),
            "verify_url": _absolute(
                reverse("public:verify", kwargs={"public_id": signature.public_id})
            ),
            "sign_url": _absolute(sign_path),
            "declaration_url": _absolute(signature.declaration.get_absolute_url()),
        },
        to=signature.email,
    )


def send_manage_link(signature: Signature) -> None:
    _send("manage-link", _signatory_context(signature), to=signature.email)


def send_correction_decision(correction) -> None:
    signature = correction.signature
    _send(
        "correction-decided",
        {**_signatory_context(signature), "correction": correction},
        to=signature.email,
    )


def moderator_addresses() -> list[str]:
    """Active moderators' addresses, and the contact address, without duplicates."""
    addresses = list(
        User.objects.filter(groups__name=MODERATORS_GROUP, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )
    if settings.CONTACT_EMAIL:
        addresses.append(settings.CONTACT_EMAIL)
    return list(dict.fromkeys(addresses))


def send_contest_to_moderators(contest: Contest, recipients: list[str]) -> None:
    signature = contest.signature
    path = reverse("admin:signatures_signature_change", args=[signature.pk])
    _send(
        "contest-received-moderators",
        {
            "contest": contest,
            "signature": signature,
            "territory": signature.territory,
            "declaration": signature.declaration,
            "admin_url": f"{settings.SITE_URL}{path}",
        },
        to=recipients,
    )


def send_contest_acknowledgement(contest: Contest) -> None:
    signature = contest.signature
    _send(
        "contest-received",
        {
            "contest": contest,
            "territory": signature.territory,
            "declaration": signature.declaration,
        },
        to=contest.email,
    )


def send_contest_answer(contest: Contest) -> None:
    signature = contest.signature
    sign_path = reverse("signatures:sign", kwargs={"slug": signature.declaration.slug})
    _send(
        "contest-answer",
        {
            "contest": contest,
            "territory": signature.territory,
            "declaration": signature.declaration,
            "is_upheld": contest.outcome == Contest.Outcome.UPHELD,
            "sign_url": f"{settings.SITE_URL}{sign_path}",
            "contact_email": settings.CONTACT_EMAIL,
        },
        to=contest.email,
    )
