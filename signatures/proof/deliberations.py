"""Attaching a deliberation to a signature, and making it public or private."""

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from .. import services
from ..models import Signature, deliberation_path, private_storage
from .storage import delete_after_commit

Status = Signature.Status


def attach_deliberation(*, signature_id: int, uploaded_file: UploadedFile) -> Signature:
    """Attach a PDF that DeliberationField validated to a signature, replacing any earlier one.

    Side effects: writes the file to private storage under a new random name
    (never the uploaded name, which may say who sent it); sets `deliberation` and
    `deliberation_uploaded_at`; makes it private (`deliberation_is_public` False: a
    moderator looks at a new file before the public does); recomputes the flags and
    the verification level (services.refresh_proof: "deliberation" unless
    ProConnect ranks higher); queues the refresh of the public counts when the
    signature is published (the level is part of their version); after commit,
    deletes the earlier file. Records no ModerationEvent: no action fits, and
    `deliberation_uploaded_at` says when.
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
            signature = (
                Signature.objects.select_for_update(of=("self",))
                .select_related("territory")
                .get(pk=signature_id)
            )
            if signature.status == Status.WITHDRAWN or signature.anonymised_at:
                raise services.InvalidTransition(signature.status)
            previous = signature.deliberation.name
            name = storage.save(deliberation_path(signature, uploaded_file.name), uploaded_file)
            signature.deliberation = name
            signature.deliberation_uploaded_at = timezone.now()
            signature.deliberation_is_public = False
            signature.save(
                update_fields=[
                    "deliberation",
                    "deliberation_uploaded_at",
                    "deliberation_is_public",
                ]
            )
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


def set_deliberation_public(*, signature_id: int, is_public: bool, actor) -> bool:
    """A moderator shows or hides a signature's deliberation on the public pages.

    Side effects: sets `deliberation_is_public` when the signature has a
    deliberation and the value changes; records the change in the admin's history
    of the signature (LogEntry, by `actor`: ModerationEvent has no action for
    it, and adding one would need a migration). The counts do not depend on it,
    and the public list is read live. The public view serves the file only while
    the signature is published too. Returns whether anything changed.
    """
    with transaction.atomic():
        signature = (
            Signature.objects.select_for_update(of=("self",))
            .select_related("territory")
            .get(pk=signature_id)
        )
        if not signature.deliberation or signature.deliberation_is_public == is_public:
            return False
        signature.deliberation_is_public = is_public
        signature.save(update_fields=["deliberation_is_public"])
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
