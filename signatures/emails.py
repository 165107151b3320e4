"""One function per email: subject, plain text and HTML from templates/emails/."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from core.mail import send_templated

from .models import CONFIRMATION_VALID_DAYS, Contest, ModerationEvent, Signature

User = get_user_model()
MODERATORS_GROUP = "Modérateurs"  # created by migration 0003_moderators_group


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
    send_templated(
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
        ModerationEvent.Action.DELIBERATION_REFUSED: "decision-deliberation-refused",
    }[event.action]
    list_path = reverse("public:list", kwargs={"slug": signature.declaration.slug})
    sign_path = reverse("signatures:sign", kwargs={"slug": signature.declaration.slug})
    send_templated(
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
        # A refusal says how to answer it: a reply reaches people who can reconsider it.
        reply_to=settings.CONTACT_EMAIL or None,
    )


def send_manage_link(signature: Signature) -> None:
    send_templated("manage-link", _signatory_context(signature), to=signature.email)


def send_correction_decision(correction) -> None:
    signature = correction.signature
    send_templated(
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
    send_templated(
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
    send_templated(
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
    send_templated(
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
