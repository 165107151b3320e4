"""A council deliberation or mandate attached to a signature: the upload field, the
services that attach it and make it public, and the moderators' view that shows it.

The file lives in private storage (settings.PRIVATE_ROOT) under a random name
(models.deliberation_path): no URL serves that directory. Two views stream it,
after their checks: `moderator_deliberation` here, and public/verify.py's
`deliberation` once a moderator made it public.

Storage is taken from models.private_storage() at each call rather than from
the model field, whose storage object was built when models were imported:
PRIVATE_ROOT is read when the file is written, read or deleted.
"""

import datetime
import logging
import math

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from . import services
from .models import Signature, deliberation_path, private_storage

logger = logging.getLogger(__name__)

Status = Signature.Status

PDF_HEADER = b"%PDF-"
# Readers accept a file whose "%%EOF" marker is within its last 1024 bytes (Adobe's
# implementation notes); a file cut short in transfer has none there.
EOF_WINDOW = 1024
# Files the orphan sweep leaves alone: one this recent may belong to a transaction
# that has not committed yet (attach_deliberation writes the file first).
ORPHAN_GRACE = datetime.timedelta(hours=1)
DELIBERATION_DIR = "deliberations"

NOT_PDF_FORMAT = _(
    "Ce fichier n'est pas un PDF : son contenu est d'un autre format, même si son nom se "
    "termine par .pdf. Enregistrez ou exportez le document en PDF, puis joignez ce fichier."
)
NOT_PDF_TRUNCATED = _(
    "Ce fichier n'est pas un PDF : il est incomplet (sa fin manque). Enregistrez-le de "
    "nouveau, puis réessayez."
)
NOT_PDF_DAMAGED = _("Ce fichier n'est pas un PDF : il est endommagé et ne peut pas être lu.")
PDF_PASSWORD = _(
    "Ce PDF est protégé par un mot de passe : joignez une version qui s'ouvre sans mot de passe."
)
TOO_LARGE = _("Ce fichier pèse %(size)s Mo ; la limite est de %(limit)s Mo.")


def check_pdf(file) -> None:
    """Raise ValidationError unless the file is a PDF by its content, whatever its name.

    Three checks, cheapest first: the "%PDF-" header at the very first byte (strict:
    readers tolerate junk before it, we need not), the "%%EOF" marker near the end
    (a truncated upload lacks it), and a real parse with pypdf that must find at
    least one page. No text is extracted and nothing in the file is run.
    An encrypted PDF is accepted when it opens without a password (only its
    permissions are restricted, as with many signed deliberations); one that
    needs a password is refused, since moderators could not read it.
    """
    # pypdf weighs about 28 MiB in every web process: loaded when a file is checked.
    from pypdf import PdfReader  # noqa: PLC0415
    from pypdf.errors import FileNotDecryptedError  # noqa: PLC0415

    file.seek(0)
    if file.read(len(PDF_HEADER)) != PDF_HEADER:
        raise ValidationError(NOT_PDF_FORMAT, code="not_pdf")
    file.seek(max(0, file.size - EOF_WINDOW))
    if b"%%EOF" not in file.read():
        raise ValidationError(NOT_PDF_TRUNCATED, code="truncated_pdf")
    file.seek(0)
    try:
        pages = len(PdfReader(file, strict=False).pages)
    except FileNotDecryptedError:
        raise ValidationError(PDF_PASSWORD, code="encrypted_pdf") from None
    except Exception as error:  # noqa: BLE001 - a malformed file may break the parser anywhere
        logger.info("Deliberation refused, unreadable PDF: %s", type(error).__name__)
        raise ValidationError(NOT_PDF_DAMAGED, code="damaged_pdf") from None
    finally:
        file.seek(0)
    if pages < 1:
        raise ValidationError(NOT_PDF_DAMAGED, code="damaged_pdf")


class DeliberationField(forms.FileField):
    """An optional PDF of at most settings.DELIBERATION_MAX_BYTES, checked by content."""

    widget = forms.FileInput(attrs={"accept": "application/pdf,.pdf"})
    default_error_messages = {"too_large": TOO_LARGE}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Délibération ou mandat (PDF)"))
        kwargs.setdefault(
            "help_text",
            _(
                "Facultatif : la délibération du conseil ou le mandat qui vous autorise à "
                "signer, en PDF de 5 Mo au plus. Elle n'est pas publiée, sauf si un modérateur "
                "le décide."
            ),
        )
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if not isinstance(value, UploadedFile):
            return  # nothing sent
        limit = settings.DELIBERATION_MAX_BYTES
        if value.size > limit:
            raise ValidationError(
                self.error_messages["too_large"],
                code="too_large",
                params={
                    "size": _megabytes(value.size, round_up=True),
                    "limit": _megabytes(limit, round_up=False),
                },
            )
        check_pdf(value)


def _megabytes(size: int, *, round_up: bool) -> str:
    """Size in MB, to a tenth: "5,1" for a file just over a limit of "5", not "5,0" for both."""
    tenths = size * 10 / 2**20
    tenths = math.ceil(tenths) if round_up else math.floor(tenths)
    return number_format(tenths / 10, decimal_pos=0 if tenths % 10 == 0 else 1)


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
                _delete_after_commit(previous)
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


def delete_orphan_deliberation_files(now: datetime.datetime) -> int:
    """Delete deliberation files no signature refers to, older than ORPHAN_GRACE.

    They come from rows deleted without going through anonymise_signature
    (retention's delete_unconfirmed_signatures deletes pending ones in bulk),
    from a transaction rolled back after attach_deliberation wrote its file, or
    from a process that died in between. Returns how many files were deleted.
    """
    storage = private_storage()
    if not storage.exists(DELIBERATION_DIR):
        return 0
    _dirs, files = storage.listdir(DELIBERATION_DIR)
    referenced = set(
        Signature.objects.exclude(deliberation="").values_list("deliberation", flat=True)
    )
    deleted = 0
    for file_name in files:
        name = f"{DELIBERATION_DIR}/{file_name}"
        if name in referenced or storage.get_modified_time(name) > now - ORPHAN_GRACE:
            continue
        storage.delete(name)
        deleted += 1
    return deleted


def _delete_after_commit(name: str) -> None:
    # robust: a file that cannot be deleted must not turn a saved change into an error;
    # delete_orphan_deliberation_files retries, as the row no longer names it.
    transaction.on_commit(lambda: private_storage().delete(name), robust=True)


def deliberation_response(signature: Signature) -> FileResponse:
    """The signature's PDF, shown in the browser and never taken for anything else.

    `nosniff` keeps browsers from reading it as HTML; `sandbox` runs it in an
    opaque origin, without the site's cookies, should a viewer run its scripts;
    `no-store` keeps it out of caches, since it may be made private again.
    Raises Http404 when the file is missing from the storage.
    """
    try:
        file = private_storage().open(signature.deliberation.name, "rb")
    except FileNotFoundError:
        logger.warning("Deliberation file missing for signature %s", signature.pk)
        raise Http404("the deliberation file is missing") from None
    response = FileResponse(
        file,
        content_type="application/pdf",
        filename=f"deliberation-{signature.public_id}.pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
def moderator_deliberation(request, public_id):
    """A signature's deliberation, for staff allowed into the admin who may view signatures."""
    # admin.site's own check: active staff, with a verified second factor when required.
    if not admin.site.has_permission(request) or not request.user.has_perm(
        "signatures.view_signature"
    ):
        raise PermissionDenied
    signature = get_object_or_404(Signature.objects.exclude(deliberation=""), public_id=public_id)
    return deliberation_response(signature)
