"""Attaching a deliberation to a signature, a moderator's review of it, and making it
public or private."""

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from .. import services
from ..models import ModerationEvent, Signature, deliberation_path, private_storage
from . import levels
from .storage import delete_after_commit

Status = Signature.Status
Review = Signature.DeliberationReview

REVIEW_FIELDS = [
    "deliberation_review",
    "deliberation_reviewed_at",
    "deliberation_refusal_reason",
    "deliberation_refusal_note",
]
REVIEW_ACTIONS = {
    Review.ACCEPTED: ModerationEvent.Action.DELIBERATION_ACCEPTED,
    Review.REFUSED: ModerationEvent.Action.DELIBERATION_REFUSED,
}


def _locked(signature_id: int) -> Signature:
    """The signature, its row locked until the caller's transaction ends (with its
    territory, which refresh_proof reads)."""
    return (
        Signature.objects.select_for_update(of=("self",))
        .select_related("territory")
        .get(pk=signature_id)
    )


def attach_deliberation(*, signature_id: int, uploaded_file: UploadedFile) -> Signature:
    """Attach a PDF that DeliberationField validated to a signature, replacing any earlier one.

    Side effects: writes the file to private storage under a new random name
    (never the uploaded name, which may say who sent it); sets `deliberation` and
    `deliberation_uploaded_at`; makes it private (`deliberation_is_public` False: a
    moderator looks at a new file before the public does) and puts it up for review
    (`deliberation_review` PENDING, any earlier review and refusal cleared: a new file
    was never looked at); recomputes the flags and the verification level
    (services.refresh_proof: a pending deliberation does not count, so a level an
    earlier accepted file earned drops until this one is accepted); queues the refresh
    of the public counts when the signature is published (the level is part of their
    version); after commit, deletes the earlier file. Records no ModerationEvent: no
    action fits, and `deliberation_uploaded_at` says when.
    The file is written before the row: when this function fails, it deletes the
    new file. If the caller's own transaction rolls back afterwards, or the
    process dies before the commit, the file stays unreferenced (no view serves
    it) until delete_orphan_deliberation_files removes it.
    Raises services.InvalidTransition for a withdrawn or anonymised signature. A
    rejected one accepts it: a deliberation is how a signatory answers « ne
    représente pas ce territoire », and a moderator may then publish it.
    """
    storage = private_storage()
    name = ""
    try:
        with transaction.atomic():
            signature = _locked(signature_id)
            if signature.status == Status.WITHDRAWN or signature.anonymised_at:
                raise services.InvalidTransition(signature.status)
            previous = signature.deliberation.name
            name = storage.save(deliberation_path(signature, uploaded_file.name), uploaded_file)
            _take_new_file(signature, name)
            services.refresh_proof(signature)
            if signature.status == Status.PUBLISHED:
                services.queue_stats_refresh(signature.declaration_id)
            if previous:
                delete_after_commit(previous)
    except BaseException:
        if name:
            storage.delete(name)
        raise
    return signature


def _take_new_file(signature: Signature, name: str) -> None:
    """The row names the new file: private, and waiting for its own review."""
    signature.deliberation = name
    signature.deliberation_uploaded_at = timezone.now()
    signature.deliberation_is_public = False
    signature.deliberation_review = Review.PENDING
    signature.deliberation_reviewed_at = None
    signature.deliberation_refusal_reason = signature.deliberation_refusal_note = ""
    signature.save(
        update_fields=[
            "deliberation",
            "deliberation_uploaded_at",
            "deliberation_is_public",
            *REVIEW_FIELDS,
        ]
    )


def review_deliberation(
    *, signature_id: int, outcome: str, actor, reason: str = "", note: str = ""
) -> bool:
    """A moderator accepts or refuses the deliberation a signatory attached.

    `outcome` is Review.ACCEPTED or Review.REFUSED; a refusal needs its `reason`
    (Signature.DeliberationRefusal), `note` adds details the signatory reads.
    Side effects: sets `deliberation_review` and `deliberation_reviewed_at`; a
    refusal stores its reason and note (an acceptance clears them) and makes the
    file private (a refused document proves nothing publicly); records a
    ModerationEvent (DELIBERATION_ACCEPTED or DELIBERATION_REFUSED, with the reason
    and note); recomputes the flags and the verification level (levels.refresh_proof:
    "deliberation" once accepted, unless ProConnect ranks higher); queues the refresh
    of the public counts when the signature is published (the level is part of their
    version); after commit, a refusal is emailed to the signatory with its reason
    (the decision email, sent once: `notified_at`).
    Returns False, changing nothing, when the signature has no deliberation file
    (none attached, or anonymised) or its review already has this outcome.
    """
    if outcome not in REVIEW_ACTIONS or (outcome == Review.REFUSED and not reason):
        raise ValueError(f"not a deliberation review: {outcome!r}, reason {reason!r}")
    with transaction.atomic():
        signature = _locked(signature_id)
        if not signature.deliberation or signature.deliberation_review == outcome:
            return False
        is_refused = outcome == Review.REFUSED
        signature.deliberation_review = outcome
        signature.deliberation_reviewed_at = timezone.now()
        signature.deliberation_refusal_reason = reason if is_refused else ""
        signature.deliberation_refusal_note = note if is_refused else ""
        if is_refused:
            signature.deliberation_is_public = False
        signature.save(update_fields=[*REVIEW_FIELDS, "deliberation_is_public"])
        event = ModerationEvent.objects.create(
            signature=signature,
            actor=actor,
            action=REVIEW_ACTIONS[outcome],
            reason=signature.deliberation_refusal_reason,
            note=signature.deliberation_refusal_note,
            from_status=signature.status,
            to_status=signature.status,
        )
        levels.refresh_proof(signature)
        if signature.status == Status.PUBLISHED:
            services.queue_stats_refresh(signature.declaration_id)
        if event.action in ModerationEvent.NOTIFIED_ACTIONS:
            services.queue_decision_email(event)
    return True


def set_deliberation_public(*, signature_id: int, is_public: bool, actor) -> bool:
    """A moderator shows or hides a signature's deliberation on the public pages.

    Side effects: sets `deliberation_is_public` when the signature has a
    deliberation and the value changes; records the change in the admin's history
    of the signature (LogEntry, by `actor`: ModerationEvent has no action for
    it); when the signature is published, queues the refresh of the counts'
    version, which the cached public pages follow (the list links the file). The
    public view serves the file only while the signature is published too.
    Returns whether anything changed.
    """
    with transaction.atomic():
        signature = _locked(signature_id)
        if not signature.deliberation or signature.deliberation_is_public == is_public:
            return False
        signature.deliberation_is_public = is_public
        signature.save(update_fields=["deliberation_is_public"])
        if signature.status == Status.PUBLISHED:
            services.queue_stats_refresh(signature.declaration_id)
        if actor is not None:
            field = Signature._meta.get_field("deliberation_is_public")
            LogEntry.objects.log_actions(
                user_id=actor.pk,
                queryset=[signature],
                action_flag=CHANGE,
                change_message=[{"changed": {"fields": [str(field.verbose_name)]}}],
                single_object=True,
            )
    return True
