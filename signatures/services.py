"""Signing workflows: each function is one state change, with its side effects listed."""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext as _

from core.after_response import after_commit_and_response
from declarations.models import Declaration, Network
from territories.models import Territory
from territories.normalize import normalize

from .models import (
    Contest,
    Correction,
    Flag,
    ModerationEvent,
    OutgoingEmail,
    Signature,
    new_manage_secret,
    private_storage,
    source_hash,
)
from .proof.levels import refresh_proof
from .tasks import (
    queue_due_proofs,
    refresh_stats,
    send_confirmation_email,
    send_contest_answer,
    send_contest_received,
    send_decision_email,
    send_manage_link_email,
)
from .text import email_domain

logger = logging.getLogger(__name__)


class TerritoryAlreadySigned(Exception):
    """The territory already has a confirmed or published signature."""

    def __init__(self, live: Signature):
        super().__init__(f"territory {live.territory_id} already signed")
        self.live = live


@dataclass(frozen=True, kw_only=True)
class UnlistedTerritory:
    """A territory the signatory describes because the referential lacks it."""

    kind: str
    name: str
    siren: str
    departement: Territory


class InvalidTransition(Exception):
    """The action is not allowed from the signature's current status."""


@dataclass(frozen=True, kw_only=True)
class Source:
    """Where a submission came from: kept for moderators, hashed for grouping."""

    ip: str | None = None
    user_agent: str = ""


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


def live_signature_for(*, declaration: Declaration, territory: Territory) -> Signature | None:
    return (
        Signature.objects.live()
        .for_territory(declaration, territory)
        .select_related("territory")
        .first()
    )


def get_or_create_unlisted_territory(unlisted: UnlistedTerritory) -> Territory:
    """A territory outside the referential, keyed by its SIREN.

    A SIREN already known (official or added before) returns that territory,
    so "not listed" cannot be used to sign twice for the same body. A new one
    stays inactive, out of the public search, until a signature on it is
    published: nobody can put text in the autocomplete without moderation.
    """
    existing = Territory.objects.filter(siren=unlisted.siren).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return Territory.objects.create(
                kind=unlisted.kind,
                code=unlisted.siren,
                siren=unlisted.siren,
                name=unlisted.name,
                departement=unlisted.departement,
                region=unlisted.departement.region,
                is_referential=False,
                is_active=False,
            )
    except IntegrityError:  # created meanwhile by a concurrent submission
        return Territory.objects.get(siren=unlisted.siren)


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
    fields = {
        "first_name": signatory.first_name,
        "last_name": signatory.last_name,
        "signatory_search": normalize(f"{signatory.first_name} {signatory.last_name}"),
        "function": signatory.function,
        "function_other": signatory.function_other,
        "email": signatory.email,
        "email_domain": email_domain(signatory.email),  # as save() derives it
        "phone": signatory.phone,
        "comment": signatory.comment,
        "consents_to_news": signatory.consents_to_news,
        "consents_to_publication": True,
        "consent_version": signatory.consent_version,
        "civility": signatory.civility,
        "signs_on_behalf": signatory.signs_on_behalf,
        "filler_first_name": signatory.filler_first_name,
        "filler_last_name": signatory.filler_last_name,
        "filler_function": signatory.filler_function,
        "declares_authorised": signatory.declares_authorised,
        "proconnect_siret": signatory.proconnect_siret,
        "proconnect_verified_at": now if signatory.proconnect_siret else None,
        "consented_at": now,
        "submitted_ip": source.ip,
        "ip_hash": source_hash(source.ip or ""),  # as save() derives it
        "user_agent": source.user_agent[:300],
        "fill_seconds": signatory.fill_seconds,
        "proof_refreshed_at": None,  # new data: its flags are due again
    }
    arguments = (declaration, territory, signatory, networks, fields, suspect_reason, now)
    try:
        with transaction.atomic():
            return _sign_in_transaction(*arguments)
    except IntegrityError:
        # The same form submitted twice at once: both found nothing to lock and
        # inserted, and the second insert broke the unique constraint on pending
        # signatures once the first committed. Starting again finds the twin, or its
        # confirmation (TerritoryAlreadySigned). A savepoint around the insert would
        # cost two statements in every submission; this costs nothing but in the race.
        pass
    with transaction.atomic():
        return _sign_in_transaction(*arguments)


def _sign_in_transaction(declaration, territory, signatory, networks, fields, suspect_reason, now):
    """sign_declaration's work, inside its transaction."""
    if isinstance(territory, UnlistedTerritory):
        territory = get_or_create_unlisted_territory(territory)
    if suspect_reason:
        return _record_suspect(declaration, territory, fields, networks, suspect_reason, now)
    # One locked read: a live signature of the territory, or this address's pending one
    # (the constraints allow at most one of each: no order needed). The territory is
    # the one in hand, not read again.
    holders = list(
        Signature.objects.for_territory(declaration, territory)
        .filter(
            Q(status__in=Signature.LIVE_STATUSES)
            | Q(status=Signature.Status.PENDING, email__iexact=signatory.email)
        )
        .order_by()
        .select_for_update()
    )
    for holder in holders:
        holder.territory = territory
    live = next((s for s in holders if s.status in Signature.LIVE_STATUSES), None)
    if live:
        raise TerritoryAlreadySigned(live)
    signature = holders[0] if holders else None
    is_new = signature is None
    if is_new:
        signature = Signature.objects.create(
            declaration=declaration, territory=territory, submitted_at=now, **fields
        )
    else:
        for name, value in fields.items():
            setattr(signature, name, value)
        signature.save(update_fields=list(fields))
    if not is_new:
        signature.networks.set(networks)
    elif networks:  # a new row has none yet: nothing to read first
        signature.networks.add(*networks)
    if signatory.proconnect_siret:
        refresh_proof(signature)
        if signature.verification == Signature.Verification.PROCONNECT:
            # ProConnect verified the address and the organisation: no email round trip.
            return change_status(
                signature_id=signature.pk,
                action=Action.CONFIRM,
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


def queue_confirmation(signature: Signature, *, capped: bool = True) -> bool:
    """Queue the link after commit and the response; False when the address's caps
    refuse one more email."""
    if capped and not OutgoingEmail.objects.claim(
        email=signature.email, kind="confirmation", now=timezone.now()
    ):
        # Never the address in logs: its hash is enough to follow a pattern.
        logger.warning("Email cap reached for recipient %s", source_hash(signature.email)[:12])
        return False
    # The database's clock, like `confirmation_sent_at`, so the two compare.
    Signature.objects.filter(pk=signature.pk).update(confirmation_queued_at=Now())
    # Queued once the response has left (the signatory does not wait for Redis); a
    # broker outage, or a process that dies first, loses no email: the sweeper
    # (sweep_unsent_emails) sends what was stamped above and never sent.
    after_commit_and_response(lambda: send_confirmation_email.delay(signature.pk))
    return True


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


Status = Signature.Status
Action = ModerationEvent.Action

# Which statuses each action may leave from, and where it leads (None: decided
# by the declaration's moderation mode).
TRANSITIONS = {
    Action.CONFIRM: ({Status.PENDING}, None),
    Action.RELEASE: ({Status.SUSPECT}, Status.PENDING),
    Action.APPROVE: ({Status.CONFIRMED, Status.REJECTED}, Status.PUBLISHED),
    Action.REJECT: (
        {Status.SUSPECT, Status.PENDING, Status.CONFIRMED, Status.PUBLISHED},
        Status.REJECTED,
    ),
    Action.WITHDRAW: (
        {Status.SUSPECT, Status.PENDING, Status.CONFIRMED, Status.PUBLISHED, Status.REJECTED},
        Status.WITHDRAWN,
    ),
}
TIMESTAMP_FOR = {
    Status.CONFIRMED: "confirmed_at",
    Status.PUBLISHED: "published_at",
    Status.REJECTED: "rejected_at",
    Status.WITHDRAWN: "withdrawn_at",
}


def change_status(
    *,
    signature_id: int,
    action: str,
    actor=None,
    reason: str = "",
    note: str = "",
) -> Signature:
    """The one function that changes a signature's status.

    Side effects: locks the row; checks the action is allowed from the current
    status (else InvalidTransition); sets the status and the timestamp of the
    new step (a confirmation also sets `confirmed_at`, and `published_at` when
    the declaration publishes without moderation); records a ModerationEvent;
    on confirmation, recomputes the flags that depend on other signatures;
    makes a territory a signatory added searchable once published; a released
    suspect gets its confirmation link; a rejected or withdrawn signature
    upholds the contests against it (decide_contests); after commit, queues the
    refresh of the counts when publication changed, and the signatory's email
    for approvals and rejections.
    Raises TerritoryAlreadySigned when the territory already has a live
    signature: the database's partial unique index decides, even under races.
    Raises InvalidTransition when releasing a suspect would duplicate the
    pending signature the same address already has for this territory.
    """
    now = timezone.now()
    sources, target = TRANSITIONS[action]
    with transaction.atomic():
        signature = (
            Signature.objects.select_for_update(of=("self",))
            .select_related("declaration", "territory")
            .get(pk=signature_id)
        )
        previous = signature.status
        if previous not in sources:
            raise InvalidTransition(previous)
        if target is None:
            post = signature.declaration.moderation == Declaration.Moderation.POST
            target = Status.PUBLISHED if post else Status.CONFIRMED
        signature.status = target
        updated = ["status"]
        if action == Action.CONFIRM:
            signature.confirmed_at = now
            updated.append("confirmed_at")
        stamp = TIMESTAMP_FOR.get(target)
        if stamp:
            setattr(signature, stamp, now)
            updated.append(stamp)
        try:
            with transaction.atomic():
                signature.save(update_fields=sorted(set(updated)))
        except IntegrityError:
            if target == Status.PENDING:
                raise InvalidTransition("pending duplicate") from None
            live = live_signature_for(
                declaration=signature.declaration, territory=signature.territory
            )
            if live is None:
                raise
            raise TerritoryAlreadySigned(live) from None
        event = ModerationEvent.objects.create(
            signature=signature,
            actor=actor,
            action=action,
            reason=reason,
            note=note,
            from_status=previous,
            to_status=target,
            created_at=now,
        )
        if action == Action.CONFIRM:
            refresh_proof(signature)
        if action == Action.RELEASE:
            queue_confirmation(signature, capped=False)  # a moderator vouched for it
        if target in (Status.REJECTED, Status.WITHDRAWN):
            decide_contests(signature_id=signature.pk, outcome=Contest.Outcome.UPHELD, actor=actor)
        if target == Status.PUBLISHED and not signature.territory.is_active:
            # A territory a signatory added becomes searchable once published.
            Territory.objects.filter(pk=signature.territory_id, is_referential=False).update(
                is_active=True
            )
        if Status.PUBLISHED in (previous, target):
            queue_stats_refresh(signature.declaration_id)
        if action in ModerationEvent.NOTIFIED_ACTIONS:
            _queue_decision_email(event.pk)
    return signature


def confirm_signature(*, signature_id: int) -> Signature:
    """The signatory's click on the emailed link; see change_status."""
    return change_status(signature_id=signature_id, action=Action.CONFIRM)


def _queue_decision_email(event_id: int) -> None:
    transaction.on_commit(lambda: send_decision_email.delay(event_id), robust=True)


def anonymise_signature(*, signature_id: int, actor, action: str = Action.ANONYMISE) -> Signature:
    """Erase what identifies the signatory; keep territory, networks and dates for counts.

    Side effects: a pending signature is withdrawn first (it can no longer be
    confirmed by anyone); names, function wording, email and its domain, phone,
    comment, IP, user agent and the SMTP error (which quotes the address) are
    erased; flags, which quote personal data, and corrections are deleted; the
    deliberation file is deleted after commit and the field blanked (the
    verification level it earned stays, so the counts do not change); the
    "manage" link stops working (nothing is left to manage); records an audit
    event, `action` (ANONYMISE; ERASE when a retention period ran out, see
    retention.py); refreshes the public counts' version when published.
    Idempotent.
    """
    with transaction.atomic():
        signature = Signature.objects.select_for_update().get(pk=signature_id)
        if signature.anonymised_at:
            return signature
        if signature.status == Status.PENDING:
            change_status(signature_id=signature_id, action=Action.WITHDRAW, actor=actor)
            signature.refresh_from_db()
        previous = signature.status
        signature.first_name = signature.last_name = signature.function_other = ""
        signature.signatory_search = ""
        signature.email = signature.phone = signature.comment = ""
        signature.submitted_ip = None
        signature.user_agent = signature.confirmation_error = ""
        signature.manage_secret = new_manage_secret()
        signature.anonymised_at = timezone.now()
        if signature.deliberation:
            # After commit: rolled back, the row still names the file.
            name = signature.deliberation.name
            transaction.on_commit(lambda: private_storage().delete(name), robust=True)
        signature.deliberation = ""
        signature.deliberation_is_public = False
        signature.save(
            update_fields=[
                "first_name",
                "last_name",
                "signatory_search",
                "function_other",
                "email",
                "phone",
                "comment",
                "submitted_ip",
                "email_domain",  # save() derives it from the now empty address
                "user_agent",
                "confirmation_error",
                "manage_secret",
                "anonymised_at",
                "deliberation",
                "deliberation_is_public",
            ]
        )
        signature.flags.all().delete()
        signature.corrections.all().delete()
        if signature.status == Status.PUBLISHED:
            queue_stats_refresh(signature.declaration_id)  # the public name changed
        ModerationEvent.objects.create(
            signature=signature,
            actor=actor,
            action=action,
            from_status=previous,
            to_status=signature.status,
        )
    return signature


def queue_stats_refresh(declaration_id: int) -> None:
    transaction.on_commit(lambda: refresh_stats.delay(declaration_id), robust=True)


@dataclass(frozen=True, kw_only=True)
class Contester:
    first_name: str
    last_name: str
    function: str
    email: str
    message: str = ""


def contest_signature(*, signature_id: int, contester: Contester, source: Source) -> Contest:
    """Someone says this live signature does not come from their territory.

    Side effects: records the Contest; flags the signature "contested", which
    puts it first in the moderators' queue; records an audit event; after
    commit, emails the moderators the contest and the contester an
    acknowledgement (within the address's caps).
    """
    with transaction.atomic():
        signature = (
            Signature.objects.live().select_for_update(of=("self",)).filter(pk=signature_id).get()
        )
        contest = Contest.objects.create(
            signature=signature,
            first_name=contester.first_name,
            last_name=contester.last_name,
            function=contester.function,
            email=contester.email,
            message=contester.message,
            ip_hash=source_hash(source.ip or ""),
        )
        Flag.set_on(
            signature,
            Flag.Code.CONTESTED,
            f"{contester.first_name} {contester.last_name}, {contester.function}",
        )
        ModerationEvent.objects.create(
            signature=signature,
            action=Action.CONTEST,
            note=contester.message,
            from_status=signature.status,
            to_status=signature.status,
        )
        transaction.on_commit(lambda: send_contest_received.delay(contest.pk), robust=True)
    return contest


def decide_contests(*, signature_id: int, outcome: str, actor=None) -> int:
    """Close the open contests of a signature; returns how many.

    Side effects: sets the outcome and `decided_at`; removes the "contested"
    flag; records an audit event when there was any; after commit, emails each
    contester the decision. Called by change_status when the signature is
    rejected or withdrawn (upheld), and by moderators who keep it (dismissed).
    """
    with transaction.atomic():
        open_contests = list(
            Contest.objects.select_for_update().filter(
                signature_id=signature_id, decided_at__isnull=True
            )
        )
        if not open_contests:
            return 0
        now = timezone.now()
        Contest.objects.filter(pk__in=[c.pk for c in open_contests]).update(
            outcome=outcome, decided_at=now
        )
        Flag.objects.filter(signature_id=signature_id, code=Flag.Code.CONTESTED).delete()
        status = Signature.objects.values_list("status", flat=True).get(pk=signature_id)
        ModerationEvent.objects.create(
            signature_id=signature_id,
            actor=actor,
            action=Action.CONTEST_DECIDED,
            note=Contest.Outcome(outcome).label,
            from_status=status,
            to_status=status,
        )
        for contest in open_contests:
            transaction.on_commit(lambda pk=contest.pk: send_contest_answer.delay(pk), robust=True)
    return len(open_contests)


# What a signatory corrects: the public name, function and comment.
CORRECTABLE_FIELDS = ("first_name", "last_name", "function", "function_other", "comment")


def correct_signature(*, signature_id: int, fields: dict) -> Signature | Correction:
    """The signatory fixes their name, function or comment from their personal link.

    Side effects: a signature not yet public (suspect, pending, confirmed) is
    updated in place; a published one gets a Correction awaiting a moderator
    (replacing any earlier one still open), and keeps its public text until
    then. Records an audit event either way. Returns what was written.
    Raises InvalidTransition for a withdrawn or rejected signature.
    """
    values = {name: fields[name] for name in CORRECTABLE_FIELDS}
    with transaction.atomic():
        signature = Signature.objects.select_for_update().get(pk=signature_id)
        if signature.status in (Status.WITHDRAWN, Status.REJECTED) or signature.anonymised_at:
            raise InvalidTransition(signature.status)
        ModerationEvent.objects.create(
            signature=signature,
            action=Action.CORRECT,
            from_status=signature.status,
            to_status=signature.status,
        )
        if signature.status != Status.PUBLISHED:
            for name, value in values.items():
                setattr(signature, name, value)
            signature.signatory_search = normalize(f"{signature.first_name} {signature.last_name}")
            signature.save(update_fields=[*values, "signatory_search"])
            return signature
        Correction.objects.filter(signature=signature, decided_at__isnull=True).delete()
        return Correction.objects.create(signature=signature, **values)


def withdraw_signature(*, signature_id: int) -> Signature:
    """The signatory withdraws their territory's signature from their personal link.

    Side effects: as change_status(WITHDRAW): gone from every public output once
    the counts refresh, the territory free to sign again, an email acknowledging
    it; its personal data are erased after RETENTION_ENDED_DAYS.
    """
    return change_status(
        signature_id=signature_id,
        action=Action.WITHDRAW,
        note=_("Retrait demandé par le signataire depuis son lien personnel."),
    )


def send_manage_links(*, email: str) -> int:
    """Send each signature of this address its "manage" link (the public form).

    Side effects: queues one email per signature after commit, within the
    address's caps. Returns how many were queued; the view must not reveal it.
    """
    signatures = list(
        Signature.objects.filter(email__iexact=email, anonymised_at__isnull=True)
        .exclude(status=Status.SUSPECT)
        .values_list("pk", flat=True)
    )
    queued = 0
    with transaction.atomic():
        for pk in signatures:
            if not OutgoingEmail.objects.claim(email=email, kind="manage", now=timezone.now()):
                break
            transaction.on_commit(lambda pk=pk: send_manage_link_email.delay(pk), robust=True)
            queued += 1
    return queued
