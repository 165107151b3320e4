"""A signature's life once submitted: the one status machine (change_status) and what
follows it — confirmation, anonymisation, contests filed and decided. Each function
is one state change, its side effects listed.

Signing is signing.py; what the signatory does from their personal link (correct,
withdraw, ask for it) is managing.py. Both call in here, never the other way round.
"""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models.functions import Now
from django.utils import timezone

from core.after_response import after_commit_and_response
from declarations.models import Declaration
from territories.models import Territory

from .erasure import erase_personal_data
from .models import Contest, Flag, ModerationEvent, OutgoingEmail, Signature, source_hash
from .proof.levels import refresh_proof
from .tasks import (
    queue_stats_run,
    send_confirmation_email,
    send_contest_answer,
    send_contest_received,
    send_decision_email,
)

# UnlistedTerritory and get_or_create_unlisted_territory are also named from here.
from .unlisted import UnlistedTerritory, get_or_create_unlisted_territory, make_searchable  # noqa: F401

logger = logging.getLogger(__name__)

Status = Signature.Status
Action = ModerationEvent.Action


class TerritoryAlreadySigned(Exception):
    """The territory already has a confirmed or published signature."""

    def __init__(self, live: Signature):
        super().__init__(f"territory {live.territory_id} already signed")
        self.live = live


class InvalidTransition(Exception):
    """The action is not allowed from the signature's current status."""


@dataclass(frozen=True, kw_only=True)
class Source:
    """Where a submission came from: kept for moderators, hashed for grouping."""

    ip: str | None = None
    user_agent: str = ""


@dataclass(frozen=True, kw_only=True)
class Contester:
    first_name: str
    last_name: str
    function: str
    email: str
    message: str = ""


def live_signature_for(*, declaration: Declaration, territory: Territory) -> Signature | None:
    return (
        Signature.objects.live()
        .for_territory(declaration, territory)
        .select_related("territory")
        .first()
    )


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


def queue_stats_refresh(declaration_id: int) -> None:
    """After commit, a refresh of the public counts and their version (coalesced with the
    other changes of the same second: tasks.queue_stats_run)."""
    transaction.on_commit(lambda: queue_stats_run(declaration_id), robust=True)


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
    *, signature_id: int, action: str, actor=None, reason: str = "", note: str = ""
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
        _save_status(signature, target, action=action, now=now)
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
        _follow_status_change(signature, event)
    return signature


def _save_status(signature: Signature, target: str, *, action: str, now) -> None:
    """Set the status and the timestamps of its step, and save them.

    The partial unique indexes decide between concurrent changes: a second live
    signature for the territory, or a second pending one for the same address.
    """
    signature.status = target
    updated = {"status"}
    if action == Action.CONFIRM:
        signature.confirmed_at = now
        updated.add("confirmed_at")
    if stamp := TIMESTAMP_FOR.get(target):
        setattr(signature, stamp, now)
        updated.add(stamp)
    try:
        with transaction.atomic():
            signature.save(update_fields=sorted(updated))
    except IntegrityError:
        if target == Status.PENDING:
            raise InvalidTransition("pending duplicate") from None
        live = live_signature_for(declaration=signature.declaration, territory=signature.territory)
        if live is None:
            raise
        raise TerritoryAlreadySigned(live) from None


def _follow_status_change(signature: Signature, event: ModerationEvent) -> None:
    """What a saved status change sets off, as change_status's docstring lists it."""
    action, target = event.action, event.to_status
    if action == Action.CONFIRM:
        refresh_proof(signature)
    if action == Action.RELEASE:
        queue_confirmation(signature, capped=False)  # a moderator vouched for it
    if target in (Status.REJECTED, Status.WITHDRAWN):
        decide_contests(
            signature_id=signature.pk, outcome=Contest.Outcome.UPHELD, actor=event.actor
        )
    if target == Status.PUBLISHED:
        make_searchable(signature.territory)
    if Status.PUBLISHED in (event.from_status, target):
        queue_stats_refresh(signature.declaration_id)
    if action in ModerationEvent.NOTIFIED_ACTIONS:
        queue_decision_email(event)


def queue_decision_email(event: ModerationEvent) -> None:
    """The signatory's email about a decision, queued once the decision is committed."""
    transaction.on_commit(lambda: send_decision_email.delay(event.pk), robust=True)


def confirm_signature(*, signature_id: int) -> Signature:
    """The signatory's click on the emailed link; see change_status."""
    return change_status(signature_id=signature_id, action=Action.CONFIRM)


def anonymise_signature(*, signature_id: int, actor, action: str = Action.ANONYMISE) -> Signature:
    """Erase what identifies the signatory; keep territory, networks and dates for counts.

    Side effects: a pending signature is withdrawn first (it can no longer be
    confirmed by anyone); its personal data are erased as erasure.py says
    (names, function wording, email, phone, comment, IP, user agent, SMTP
    errors, flags, corrections; the deliberation file after commit, while the
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
        erase_personal_data(signature)
        if signature.status == Status.PUBLISHED:
            queue_stats_refresh(signature.declaration_id)  # the public name changed
        ModerationEvent.objects.create(
            signature=signature,
            actor=actor,
            action=action,
            from_status=signature.status,
            to_status=signature.status,
        )
    return signature


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
