"""Data retention: what is deleted or erased, and when (RGPD art. 5-1-e; docs/privacy.md).

One function per rule, each taking `now` and returning how many rows it
changed; `apply_retention` runs them all. Celery beat calls the task below
hourly, operators `manage.py apply_retention`. The periods are settings
(RETENTION_*), read at each run. Every rule is idempotent, and two runs at
once do no harm: bulk statements, rows locked or skipped, and
anonymise_signature's own guard.

The task lives here rather than in tasks.py: it calls services, which import
tasks. alliance/celery.py lists this module for the worker to import.
"""

import datetime
import ipaddress
import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from declarations.models import Declaration

from .models import Contest, Correction, Flag, ModerationEvent, OutgoingEmail, Signature
from .proof import storage
from .services import anonymise_signature

logger = logging.getLogger(__name__)

Status = Signature.Status
Action = ModerationEvent.Action

# The email caps look back a day at most (OutgoingEmail.claim); the second day is a margin.
OUTGOING_EMAIL_KEPT = datetime.timedelta(days=2)
# Signatures erased per transaction. Each published one queues a refresh of the counts
# after commit: the first refresh after a batch recomputes them, the others find them
# unchanged (one query), instead of a full recomputation per signature.
ERASE_BATCH = 200
# What a contester gave us.
CONTESTER_FIELDS = ("first_name", "last_name", "function", "email", "message")
# A flag detail that may hold an IPv4 or IPv6 address (each word is then checked).
IP_LIKE = r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+|[0-9A-Fa-f]*:[0-9A-Fa-f]*:"


def _ago(setting: str, now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(days=getattr(settings, setting))


def delete_unconfirmed_signatures(now: datetime.datetime) -> int:
    """Delete pending and suspect signatures submitted over RETENTION_UNCONFIRMED_DAYS ago.

    They were never public. Their flags, networks, audit events (a released
    suspect has some), contests and corrections go with them (CASCADE). A
    link asked for within the period restarts it: a form submitted again
    keeps `submitted_at` but replaces the data, and its new link may be
    clicked for a week. Rows locked right now (being confirmed, released) are
    left for the next run.
    """
    cutoff = _ago("RETENTION_UNCONFIRMED_DAYS", now)
    with transaction.atomic():
        expired = list(
            Signature.objects.filter(
                status__in=(Status.PENDING, Status.SUSPECT), submitted_at__lt=cutoff
            )
            .exclude(confirmation_queued_at__gte=cutoff)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        _rows, deleted = Signature.objects.filter(pk__in=expired).delete()
    return deleted.get(Signature._meta.label, 0)


def erase_sources(now: datetime.datetime) -> int:
    """Erase the IP address and user agent of signatures submitted over
    RETENTION_SOURCE_DAYS ago.

    `ip_hash` stays, for the moderators' view of trending sources. A queryset
    update leaves it as it is; Signature.save() would recompute it from the IP.
    """
    cutoff = _ago("RETENTION_SOURCE_DAYS", now)
    return (
        Signature.objects.filter(submitted_at__lt=cutoff)
        .filter(Q(submitted_ip__isnull=False) | ~Q(user_agent=""))
        .update(submitted_ip=None, user_agent="")
    )


def redact_ip_flags(now: datetime.datetime) -> int:
    """Replace the IP address quoted by an "ip_burst" flag with the start of its hash,
    when erase_sources erases the signature's IP.

    That is what flags.compute_flags writes once the IP is gone. Any address
    in the detail is replaced, whatever the language it was written in.
    """
    cutoff = _ago("RETENTION_SOURCE_DAYS", now)
    flags = (
        Flag.objects.filter(
            code=Flag.Code.IP_BURST, signature__submitted_at__lt=cutoff, detail__regex=IP_LIKE
        )
        .select_related("signature")
        .only("detail", "signature__ip_hash")
    )
    changed = 0
    for flag in flags:
        words = flag.detail.split(" ")
        detail = " ".join(flag.signature.ip_hash[:12] if _is_ip(w) else w for w in words)
        if detail != flag.detail:
            Flag.objects.filter(pk=flag.pk).update(detail=detail)
            changed += 1
    return changed


def _is_ip(word: str) -> bool:
    try:
        ipaddress.ip_address(word.strip(".,;()[]"))
    except ValueError:
        return False
    return True


def delete_outgoing_emails(now: datetime.datetime) -> int:
    """Delete the records of emails asked for over two days ago: no cap counts them."""
    deleted, _by_model = OutgoingEmail.objects.filter(
        queued_at__lt=now - OUTGOING_EMAIL_KEPT
    ).delete()
    return deleted


def erase_decided_contests(now: datetime.datetime) -> int:
    """Erase who contested and what they wrote, RETENTION_ENDED_DAYS after the decision.

    The contest stays (signature, dates, outcome). So does its "contest
    received" audit event, whose note, a copy of the message, is blanked.
    """
    cutoff = _ago("RETENTION_ENDED_DAYS", now)
    blank = dict.fromkeys(CONTESTER_FIELDS, "")
    with transaction.atomic():
        erased = Contest.objects.filter(decided_at__lt=cutoff).exclude(**blank).update(**blank)
        # decide_contests closes every open contest of a signature at once, so the
        # contests received before a decision older than the cutoff are all decided.
        decided = Contest.objects.filter(
            signature=OuterRef("signature"),
            decided_at__lt=cutoff,
            decided_at__gte=OuterRef("created_at"),
        )
        ModerationEvent.objects.filter(action=Action.CONTEST).exclude(note="").filter(
            Exists(decided)
        ).update(note="")
    return erased


def delete_decided_corrections(now: datetime.datetime) -> int:
    """Delete corrections decided over RETENTION_ENDED_DAYS ago.

    An approved one is already on the signature, a refused one is moot; the
    audit trail keeps that they happened.
    """
    cutoff = _ago("RETENTION_ENDED_DAYS", now)
    deleted, _by_model = Correction.objects.filter(decided_at__lt=cutoff).delete()
    return deleted


def _closed_declarations(now: datetime.datetime) -> QuerySet[Declaration]:
    """Declarations closed to signatures for over RETENTION_AFTER_CLOSE_DAYS.

    Closed at `closes_at`, once passed; closed with the `is_open` switch, at
    the declaration's last edit (`updated_at`): the switch keeps no date of its
    own, and a later edit can only delay the erasure.
    """
    cutoff = _ago("RETENTION_AFTER_CLOSE_DAYS", now)
    return Declaration.objects.filter(
        Q(closes_at__lt=cutoff) | Q(is_open=False, updated_at__lt=cutoff)
    )


def anonymise_closed_audit(now: datetime.datetime) -> int:
    """Blank the notes, email errors and moderators of a long-closed declaration's audit
    trail; what was decided, and when, stays."""
    return (
        ModerationEvent.objects.filter(signature__declaration__in=_closed_declarations(now))
        .filter(~Q(note="") | Q(actor__isnull=False) | ~Q(notification_error=""))
        .update(note="", actor=None, notification_error="")
    )


def delete_closed_contests(now: datetime.datetime) -> int:
    """Delete the contests of a long-closed declaration's signatures."""
    deleted, _by_model = Contest.objects.filter(
        signature__declaration__in=_closed_declarations(now)
    ).delete()
    return deleted


def delete_closed_corrections(now: datetime.datetime) -> int:
    """Delete the corrections of a long-closed declaration's signatures, open ones included."""
    deleted, _by_model = Correction.objects.filter(
        signature__declaration__in=_closed_declarations(now)
    ).delete()
    return deleted


def erase_ended_signatures(now: datetime.datetime) -> int:
    """Erase the personal data of signatures withdrawn or rejected over
    RETENTION_ENDED_DAYS ago (see _erase)."""
    cutoff = _ago("RETENTION_ENDED_DAYS", now)
    return _erase(
        Signature.objects.filter(
            Q(status=Status.WITHDRAWN, withdrawn_at__lt=cutoff)
            | Q(status=Status.REJECTED, rejected_at__lt=cutoff),
            anonymised_at__isnull=True,
        )
    )


def erase_closed_signatures(now: datetime.datetime) -> int:
    """Erase the personal data of every signature of a long-closed declaration (see _erase).

    Published ones too: the public list then shows « Signataire anonymisé·e »
    with the territory, networks and dates, and the counts do not change.
    """
    return _erase(
        Signature.objects.filter(
            declaration__in=_closed_declarations(now), anonymised_at__isnull=True
        )
    )


def _erase(signatures: QuerySet[Signature]) -> int:
    """Erase these signatures' personal data; returns how many.

    anonymise_signature does it (erasure.erase_personal_data says what that
    means) and records an ERASE audit event.
    """
    pks = list(signatures.values_list("pk", flat=True))
    for start in range(0, len(pks), ERASE_BATCH):
        batch = pks[start : start + ERASE_BATCH]
        with transaction.atomic():
            for pk in batch:
                anonymise_signature(signature_id=pk, actor=None, action=Action.ERASE)
    return len(pks)


# In this order: the bulk rules first, the per-row erasures last, so that a row that
# fails (the run stops, the task fails loudly, the next hour tries again) does not hold
# back the rest.
RULES = (
    delete_unconfirmed_signatures,
    erase_sources,
    redact_ip_flags,
    delete_outgoing_emails,
    erase_decided_contests,
    delete_decided_corrections,
    anonymise_closed_audit,
    delete_closed_contests,
    delete_closed_corrections,
    erase_ended_signatures,
    erase_closed_signatures,
    storage.delete_orphan_deliberation_files,
)


def apply_retention(now: datetime.datetime | None = None) -> dict[str, int]:
    """Apply every retention rule; returns {rule: rows changed}."""
    now = now or timezone.now()
    done = {}
    for rule in RULES:
        done[rule.__name__] = rule(now)
    return done


@shared_task(name="signatures.apply_retention")
def apply_retention_task() -> dict[str, int]:
    """Hourly (CELERY_BEAT_SCHEDULE). Logs counts only, never personal data."""
    done = apply_retention()
    logger.info("Retention applied: %s", ", ".join(f"{k}={v}" for k, v in done.items()))
    return done
