"""Signing: a submitted form becomes a pending signature and its confirmation email,
or a silent suspect for moderators. What follows is services.change_status's."""

import functools
from dataclasses import asdict, dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.after_response import after_commit_and_response
from declarations.models import Declaration, Network
from territories.models import Territory
from territories.normalize import normalize

from .models import Flag, ModerationEvent, Signature, source_hash
from .proof.levels import refresh_proof
from .services import Source, TerritoryAlreadySigned, change_status, queue_confirmation
from .tasks import queue_due_proofs
from .text import email_domain
from .unlisted import UnlistedTerritory, get_or_create_unlisted_territory


@dataclass(frozen=True, kw_only=True)
class Signatory:
    """What the form says about the person; each field is the Signature's of that name."""

    first_name: str
    last_name: str
    function: str
    function_other: str
    email: str
    phone: str
    comment: str
    consents_to_news: bool
    fill_seconds: int | None = None
    consent_version: str = ""
    civility: str = ""
    signs_on_behalf: bool = False
    filler_first_name: str = ""
    filler_last_name: str = ""
    filler_function: str = ""
    declares_authorised: bool = False
    # The identity ProConnect vouched for, when the signatory signed in with it.
    proconnect_siret: str = ""


def sign_declaration(
    *,
    declaration: Declaration,
    territory: Territory | UnlistedTerritory,
    signatory: Signatory,
    networks: list[Network],
    source: Source,
    suspect_reason: str = "",
) -> Signature:
    """Record a pending signature and queue its confirmation email.

    Side effects: creates the pending signature, or updates the pending one the
    same address already made for this territory (a re-submitted form never
    duplicates); creates the described territory when it is not listed (see
    get_or_create_unlisted_territory); leaves its flags due (`proof_refreshed_at`
    empty) and, after commit (and after the response, in a request: see
    core.after_response), has a `signatures.refresh_due_proofs` run queued
    unless one is waiting (tasks.queue_due_proofs); sets
    `confirmation_queued_at` and, at the same moment, queues the
    `signatures.send_confirmation_email` task, unless one was queued moments
    ago or the address's email caps are reached (OutgoingEmail.claim).
    With a `suspect_reason` (over the rate limit, honeypot, robot speed) the
    signature is stored as `suspect` instead, flagged with the reason, and no
    email leaves: the sender sees the usual page, moderators decide.
    A signatory whom ProConnect verified as belonging to the territory (SIRET
    of their organisation = the territory's SIREN) is confirmed at once
    (change_status CONFIRM), without an email.
    Raises TerritoryAlreadySigned when the territory has a live signature.
    """
    now = timezone.now()
    attempt = functools.partial(
        _sign_in_transaction,
        declaration=declaration,
        territory=territory,
        signatory=signatory,
        networks=networks,
        fields=_signature_fields(signatory, source, now),
        suspect_reason=suspect_reason,
        now=now,
    )
    return _again_after_a_twin(attempt)


def _again_after_a_twin(attempt) -> Signature:
    """Run `attempt` in a transaction, and once more when a twin submission won the race.

    The same form submitted twice at once: both found nothing to lock and inserted,
    and the second insert broke the unique constraint on pending signatures once the
    first committed. Starting again finds the twin, or its confirmation
    (TerritoryAlreadySigned). A savepoint around the insert would cost two
    statements in every submission; this costs nothing but in the race.
    """
    try:
        with transaction.atomic():
            return attempt()
    except IntegrityError:
        pass
    with transaction.atomic():
        return attempt()


def _signature_fields(signatory: Signatory, source: Source, now) -> dict:
    """The row's values for this submission: the signatory's, and what derives from them."""
    return {
        **asdict(signatory),
        "signatory_search": normalize(f"{signatory.first_name} {signatory.last_name}"),
        "email_domain": email_domain(signatory.email),  # as save() derives it
        "consents_to_publication": True,
        "proconnect_verified_at": now if signatory.proconnect_siret else None,
        "consented_at": now,
        "submitted_ip": source.ip,
        "ip_hash": source_hash(source.ip or ""),  # as save() derives it
        "user_agent": source.user_agent[:300],
        "proof_refreshed_at": None,  # new data: its flags are due again
    }


def _sign_in_transaction(
    *, declaration, territory, signatory, networks, fields, suspect_reason, now
) -> Signature:
    """sign_declaration's work, inside its transaction."""
    if isinstance(territory, UnlistedTerritory):
        territory = get_or_create_unlisted_territory(territory)
    if suspect_reason:
        return _record_suspect(declaration, territory, fields, networks, suspect_reason, now)
    signature = _save_pending(declaration, territory, signatory.email, fields, networks, now)
    if signatory.proconnect_siret:
        refresh_proof(signature)
        if signature.verification == Signature.Verification.PROCONNECT:
            # ProConnect verified the address and the organisation: no email round trip.
            return change_status(
                signature_id=signature.pk,
                action=ModerationEvent.Action.CONFIRM,
                note=_("Vérifiée par ProConnect : SIRET de l'organisation = SIREN du territoire."),
            )
    else:
        # The flags read other signatures (bursts from one domain or address): the
        # worker computes them a few seconds after commit, for all the signatures of
        # those seconds at once, so signing stays a few writes. Confirming computes
        # them again; beat's run every minute catches a queueing that was lost.
        after_commit_and_response(queue_due_proofs)
    if not signature.confirmation_recently_queued(now):
        queue_confirmation(signature)
    return signature


def _save_pending(declaration, territory, email, fields, networks, now) -> Signature:
    """Create the pending signature, or update the one this address already has here.

    Raises TerritoryAlreadySigned when the territory has a live signature.
    """
    # One locked read: a live signature of the territory, or this address's pending one
    # (the constraints allow at most one of each: no order needed). The territory is
    # the one in hand, not read again.
    holders = list(
        Signature.objects.for_territory(declaration, territory)
        .filter(
            Q(status__in=Signature.LIVE_STATUSES)
            | Q(status=Signature.Status.PENDING, email__iexact=email)
        )
        .order_by()
        .select_for_update()
    )
    for holder in holders:
        holder.territory = territory
    live = next((s for s in holders if s.status in Signature.LIVE_STATUSES), None)
    if live:
        raise TerritoryAlreadySigned(live)
    if not holders:
        signature = Signature.objects.create(
            declaration=declaration, territory=territory, submitted_at=now, **fields
        )
        if networks:  # a new row has none yet: nothing to read first
            signature.networks.add(*networks)
        return signature
    signature = holders[0]
    for name, value in fields.items():
        setattr(signature, name, value)
    signature.save(update_fields=list(fields))
    signature.networks.set(networks)
    return signature


def _record_suspect(declaration, territory, fields, networks, reason, now) -> Signature:
    """A silent suspect never blocks a territory nor an address: always a row of its own."""
    signature = Signature.objects.create(
        declaration=declaration,
        territory=territory,
        submitted_at=now,
        status=Signature.Status.SUSPECT,
        **fields,
    )
    if networks:
        signature.networks.add(*networks)
    Flag.set_on(signature, Flag.Code.SUSPECT, reason)
    # As for a person's signature, the other flags after commit: a flood stays cheap.
    after_commit_and_response(queue_due_proofs)
    return signature


def send_new_links(*, email: str) -> int:
    """Queue a new link for each pending signature of this address (the public form).

    Side effects: sets `confirmation_queued_at` and queues the email task after
    commit, skipping signatures queued within RESEND_COOLDOWN and stopping at
    the address's email caps. Returns how many were queued; the view must not
    reveal it.
    """
    now = timezone.now()
    queued = 0
    with transaction.atomic():
        pending = Signature.objects.pending_for(email).select_for_update()
        for signature in pending:
            if signature.confirmation_recently_queued(now):
                continue
            if not queue_confirmation(signature):
                break
            queued += 1
    return queued
