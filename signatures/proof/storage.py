"""Where deliberation files live, how they are served, and the sweep of orphaned ones.

Storage is taken from models.private_storage() at each call rather than from the
model field, whose storage object was built when models were imported: PRIVATE_ROOT
is read when the file is written, read or deleted.
"""

import datetime
import logging

from django.db import transaction
from django.http import FileResponse, Http404

from ..models import Signature, private_storage

logger = logging.getLogger(__name__)

# Files the orphan sweep leaves alone: one this recent may belong to a transaction
# that has not committed yet (attach_deliberation writes the file first).
ORPHAN_GRACE = datetime.timedelta(hours=1)
DELIBERATION_DIR = "deliberations"


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


def delete_after_commit(name: str) -> None:
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
