"""Signing workflows: each function is one state change, with its side effects listed."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models.functions import Now
from django.utils import timezone

from declarations.models import Declaration, Network
from territories.models import Territory
from territories.normalize import normalize

from . import flags
from .models import ModerationEvent, Signature
from .tasks import refresh_stats, send_confirmation_email, send_decision_email


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
    ip: str | None,
) -> Signature:
    """Record a pending signature and queue its confirmation email.

    Side effects: creates the pending signature, or updates the pending one the
    same address already made for this territory (a re-submitted form never
    duplicates); creates the described territory when it is not listed (see
    get_or_create_unlisted_territory); computes its flags; sets
    `confirmation_queued_at`; after commit, queues the
    `signatures.send_confirmation_email` task unless one was queued moments ago.
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
        "phone": signatory.phone,
        "comment": signatory.comment,
        "consents_to_news": signatory.consents_to_news,
        "consents_to_publication": True,
        "submitted_ip": ip,
        "fill_seconds": signatory.fill_seconds,
    }
    with transaction.atomic():
        if isinstance(territory, UnlistedTerritory):
            territory = get_or_create_unlisted_territory(territory)
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
                if signature is None:  # and the twin was confirmed in between
                    raise TerritoryAlreadySigned(
                        live_signature_for(declaration=declaration, territory=territory)
                    ) from None
        else:
            for name, value in fields.items():
                setattr(signature, name, value)
            signature.save(update_fields=list(fields))
        signature.networks.set(networks)
        flags.refresh_flags(signature)
        if not signature.confirmation_recently_queued(now):
            _queue_confirmation(signature)
    return signature


def _pending_for_update(declaration, territory, email) -> Signature | None:
    return (
        Signature.objects.pending_for(email)
        .for_territory(declaration, territory)
        .select_for_update()
        .first()
    )


def _queue_confirmation(signature: Signature) -> None:
    # The database's clock, like `confirmation_sent_at`, so the two compare.
    Signature.objects.filter(pk=signature.pk).update(confirmation_queued_at=Now())
    # robust: a broker outage must not turn a saved signature into an error
    # page; the sweeper (sweep_unsent_emails) sends what was not queued.
    transaction.on_commit(lambda: send_confirmation_email.delay(signature.pk), robust=True)


def send_new_links(*, email: str) -> int:
    """Queue a new link for each pending signature of this address (the public form).

    Side effects: sets `confirmation_queued_at` and queues the email task after
    commit, skipping signatures queued within RESEND_COOLDOWN. Returns how many
    were queued; the view must not reveal it.
    """
    now = timezone.now()
    queued = 0
    with transaction.atomic():
        pending = Signature.objects.pending_for(email).select_for_update()
        for signature in pending:
            if signature.confirmation_recently_queued(now):
                continue
            _queue_confirmation(signature)
            queued += 1
    return queued


Status = Signature.Status
Action = ModerationEvent.Action

# Which statuses each action may leave from, and where it leads (None: decided
# by the declaration's moderation mode).
TRANSITIONS = {
    Action.CONFIRM: ({Status.PENDING}, None),
    Action.APPROVE: ({Status.CONFIRMED, Status.REJECTED}, Status.PUBLISHED),
    Action.REJECT: ({Status.PENDING, Status.CONFIRMED, Status.PUBLISHED}, Status.REJECTED),
    Action.WITHDRAW: (
        {Status.PENDING, Status.CONFIRMED, Status.PUBLISHED, Status.REJECTED},
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
    makes a territory a signatory added searchable once published; after
    commit, queues the refresh of the counts when publication changed, and the
    signatory's email for approvals and rejections.
    Raises TerritoryAlreadySigned when the territory already has a live
    signature: the database's partial unique index decides, even under races.
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
        stamp = TIMESTAMP_FOR[target]
        setattr(signature, stamp, now)
        updated.append(stamp)
        try:
            with transaction.atomic():
                signature.save(update_fields=sorted(set(updated)))
        except IntegrityError:
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
            flags.refresh_flags(signature)
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


def resend_link_for_moderator(*, signature_id: int, actor) -> bool:
    """A moderator sends a pending signature its link again.

    Side effects: as send_new_links, for one signature, plus an audit
    event. Returns False (and does nothing) when it is not pending.
    """
    with transaction.atomic():
        signature = Signature.objects.pending().select_for_update().filter(pk=signature_id).first()
        if signature is None:
            return False
        _queue_confirmation(signature)
        ModerationEvent.objects.create(
            signature=signature,
            actor=actor,
            action=Action.RESEND,
            from_status=signature.status,
            to_status=signature.status,
        )
    return True


def anonymise_signature(*, signature_id: int, actor) -> Signature:
    """Erase what identifies the signatory; keep territory, networks and dates for counts.

    Side effects: a pending signature is withdrawn first (it can no longer be
    confirmed by anyone); names, function wording, email, phone, comment and
    IP are erased; flags, which quote personal data, are deleted; records an
    audit event; refreshes the public counts' version when published. Idempotent.
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
        signature.anonymised_at = timezone.now()
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
                "anonymised_at",
            ]
        )
        signature.flags.all().delete()
        if signature.status == Status.PUBLISHED:
            queue_stats_refresh(signature.declaration_id)  # the public name changed
        ModerationEvent.objects.create(
            signature=signature,
            actor=actor,
            action=Action.ANONYMISE,
            from_status=previous,
            to_status=signature.status,
        )
    return signature


def queue_stats_refresh(declaration_id: int) -> None:
    transaction.on_commit(lambda: refresh_stats.delay(declaration_id), robust=True)
