"""Signing workflows: each function is one state change, with its side effects listed."""

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from declarations.models import Declaration, Network
from territories.models import Territory

from .models import Signature

# A second identical submission within this delay does not send a second email.
RESEND_COOLDOWN = datetime.timedelta(minutes=2)


class TerritoryAlreadySigned(Exception):
    """The territory already has a confirmed or published signature."""

    def __init__(self, live: Signature):
        super().__init__(f"territory {live.territory_id} already signed")
        self.live = live


class NotPending(Exception):
    """The signature was confirmed, rejected or withdrawn already."""


@dataclass(frozen=True, kw_only=True)
class Signatory:
    first_name: str
    last_name: str
    function: str
    function_other: str
    email: str
    phone: str
    comment: str
    consents_to_news: bool


def live_signature_for(*, declaration: Declaration, territory: Territory) -> Signature | None:
    return (
        Signature.objects.live()
        .filter(declaration=declaration, territory=territory)
        .only("pk", "status", "confirmed_at", "published_at", "declaration_id", "territory_id")
        .first()
    )


def get_or_create_unlisted_territory(
    *, kind: str, name: str, siren: str, departement: Territory
) -> Territory:
    """A territory outside the referential, keyed by its SIREN.

    A SIREN already known (official or added before) returns that territory,
    so "not listed" cannot be used to sign twice for the same body.
    """
    existing = Territory.objects.filter(siren=siren).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return Territory.objects.create(
                kind=kind,
                code=siren,
                siren=siren,
                name=name,
                departement=departement,
                region=departement.region,
                is_referential=False,
            )
    except IntegrityError:  # created meanwhile by a concurrent submission
        return Territory.objects.get(siren=siren)


def sign_declaration(
    *,
    declaration: Declaration,
    territory: Territory,
    signatory: Signatory,
    networks: list[Network],
    ip: str | None,
) -> Signature:
    """Record a pending signature and queue its confirmation email.

    Side effects: creates the pending signature, or updates the pending one the
    same address already made for this territory (a re-submitted form never
    duplicates); sets `confirmation_queued_at`; after commit, queues the
    `signatures.send_confirmation_email` task unless one was queued moments ago.
    Raises TerritoryAlreadySigned when the territory has a live signature.
    """
    now = timezone.now()
    fields = {
        "first_name": signatory.first_name,
        "last_name": signatory.last_name,
        "function": signatory.function,
        "function_other": signatory.function_other,
        "email": signatory.email,
        "phone": signatory.phone,
        "comment": signatory.comment,
        "consents_to_news": signatory.consents_to_news,
        "consents_to_publication": True,
        "submitted_ip": ip,
    }
    with transaction.atomic():
        live = live_signature_for(declaration=declaration, territory=territory)
        if live:
            raise TerritoryAlreadySigned(live)
        signature = _pending_for_update(declaration, territory, signatory.email)
        if signature is None:
            try:
                with transaction.atomic():
                    signature = Signature.objects.create(
                        declaration=declaration, territory=territory, submitted_at=now, **fields
                    )
            except IntegrityError:  # the same form, submitted twice at once
                signature = _pending_for_update(declaration, territory, signatory.email)
        else:
            for name, value in fields.items():
                setattr(signature, name, value)
            signature.save(update_fields=[*fields, "submitted_at"])
        signature.networks.set(networks)
        recently_queued = (
            signature.confirmation_queued_at
            and now - signature.confirmation_queued_at < RESEND_COOLDOWN
        )
        if not recently_queued:
            _queue_confirmation(signature, now)
    return signature


def _pending_for_update(declaration, territory, email) -> Signature | None:
    return (
        Signature.objects.pending()
        .select_for_update()
        .filter(declaration=declaration, territory=territory, email__iexact=email)
        .first()
    )


def _queue_confirmation(signature: Signature, now: datetime.datetime) -> None:
    from .tasks import send_confirmation_email

    signature.confirmation_queued_at = now
    signature.save(update_fields=["confirmation_queued_at"])
    transaction.on_commit(lambda: send_confirmation_email.delay(signature.pk))


def resend_confirmations(*, email: str) -> int:
    """Queue a new link for each pending signature of this address.

    Side effects: sets `confirmation_queued_at` and queues the email task after
    commit, skipping signatures queued within RESEND_COOLDOWN. Returns how many
    were queued; the view must not reveal it.
    """
    now = timezone.now()
    queued = 0
    with transaction.atomic():
        pending = Signature.objects.pending().select_for_update().filter(email__iexact=email)
        for signature in pending:
            if signature.confirmation_queued_at and (
                now - signature.confirmation_queued_at < RESEND_COOLDOWN
            ):
                continue
            _queue_confirmation(signature, now)
            queued += 1
    return queued


def confirm_signature(*, signature_id: int) -> Signature:
    """Confirm the signatory's email: pending → confirmed, or → published when the
    declaration is moderated after publication.

    Side effects: sets `confirmed_at` (and `published_at`); after commit, queues
    the recount of the declaration's published signatures when published.
    Raises NotPending when the link was used already or the signature was
    moderated, and TerritoryAlreadySigned when another signature of the same
    territory won the race (the database's partial unique index decides).
    """
    now = timezone.now()
    with transaction.atomic():
        signature = (
            Signature.objects.select_for_update(of=("self",))
            .select_related("declaration")
            .get(pk=signature_id)
        )
        if signature.status != Signature.Status.PENDING:
            raise NotPending(signature.status)
        publish = signature.declaration.moderation == Declaration.Moderation.POST
        signature.status = Signature.Status.PUBLISHED if publish else Signature.Status.CONFIRMED
        signature.confirmed_at = now
        signature.published_at = now if publish else None
        try:
            with transaction.atomic():
                signature.save(update_fields=["status", "confirmed_at", "published_at"])
        except IntegrityError:
            live = live_signature_for(
                declaration=signature.declaration, territory=signature.territory
            )
            raise TerritoryAlreadySigned(live) from None
        if publish:
            queue_signature_count(signature.declaration_id)
    return signature


def queue_signature_count(declaration_id: int) -> None:
    from .tasks import update_signature_count

    transaction.on_commit(lambda: update_signature_count.delay(declaration_id))


def update_signature_count(*, declaration_id: int) -> None:
    """Recount published signatures in one UPDATE: exact and safe to run concurrently."""
    published = (
        Signature.objects.published()
        .filter(declaration=OuterRef("pk"))
        .values("declaration")
        .annotate(total=Count("pk"))
        .values("total")
    )
    Declaration.objects.filter(pk=declaration_id).update(
        signature_count=Coalesce(Subquery(published), 0)
    )
