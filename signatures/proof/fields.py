"""The deliberation upload field: an optional PDF, checked by its content, not its name."""

import logging
import math

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

PDF_HEADER = b"%PDF-"
# Readers accept a file whose "%%EOF" marker is within its last 1024 bytes (Adobe's
# implementation notes); a file cut short in transfer has none there.
EOF_WINDOW = 1024
# Files the orphan sweep leaves alone: one this recent may belong to a transaction
# that has not committed yet (attach_deliberation writes the file first).
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
