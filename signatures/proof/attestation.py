"""The PDF attestation of a published signature.

One A4 page, in French, holding only what the public list already shows (plus the
dates and the verification level), and a QR code of the public verification page:
the attestation proves nothing by itself once printed, the page says whether the
signature still stands.
"""

import datetime
import io
import unicodedata
from xml.sax.saxutils import escape

from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.graphics.barcode.qr import QrCode
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..models import Signature

FONT = "Helvetica"
BOLD = "Helvetica-Bold"
QR_SIZE = 42 * mm
GREY = colors.HexColor("#555555")

# Helvetica is one of the PDF standard fonts: no file to ship or embed, but it only
# draws WinAnsi (cp1252). That covers French, typography included (é, à, ç, œ, Œ, « »,
# ’, ·, –, —, …, no-break space), not the narrow no-break space some editors put
# before « ; : ! ? », nor letters of other alphabets a signatory's name may hold.
_CLOSE_EQUIVALENTS = str.maketrans(
    {
        "\u202f": "\u00a0",  # narrow no-break space
        "\u2007": "\u00a0",  # figure space
        "\u2009": " ",  # thin space
        "\u200a": " ",  # hair space
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2212": "-",  # minus sign
        "\u2032": "'",  # prime
        "\u02bc": "\u2019",  # modifier letter apostrophe
        "\u0142": "l",  # ł, no decomposition to strip an accent from
        "\u0141": "L",
        "\u0111": "d",  # đ
        "\u0110": "D",
        "\u0131": "i",  # dotless ı
    }
)


def winansi(text: str) -> str:
    """`text` with only characters Helvetica can draw.

    Characters outside cp1252 become a close equivalent: the table above, else the
    letter without its accent (ő → o), else "?". French text passes unchanged.
    """
    text = unicodedata.normalize("NFC", str(text)).translate(_CLOSE_EQUIVALENTS)
    return "".join(char if _drawable(char) else _without_accent(char) for char in text)


def _drawable(text: str) -> bool:
    # Python's cp1252 codec encodes exactly the characters of the font's WinAnsiEncoding.
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _without_accent(char: str) -> str:
    bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return bare if bare and _drawable(bare) else "?"


def attestation_pdf(signature: Signature) -> bytes:
    """The attestation of a published signature, as PDF bytes; French whatever the
    active language. Reads the signature's declaration, territory and département."""
    with translation.override("fr"):
        buffer = io.BytesIO()
        title = _("Attestation de signature")
        document = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=22 * mm,
            rightMargin=22 * mm,
            topMargin=20 * mm,
            bottomMargin=20 * mm,
            title=f"{title} — {signature.territory.name}",
            author=_("Alliance des territoires"),
            subject=_("Signature de la déclaration « %(title)s »")
            % {"title": signature.declaration.title},
            creator=_("Alliance des territoires"),
            lang="fr-FR",
        )
        document.build(_story(signature, title))
        return buffer.getvalue()


def _story(signature: Signature, title: str) -> list:
    styles = _styles()
    url = signature.verification_url
    return [
        _paragraph(_("Alliance des territoires"), styles["brand"]),
        _paragraph(title, styles["title"]),
        _paragraph(
            _("Cette attestation reprend la signature publiée de la déclaration ci-dessous."),
            styles["body"],
        ),
        Spacer(1, 4 * mm),
        _facts_table(_facts(signature), styles),
        Spacer(1, 10 * mm),
        QrCode(url, width=QR_SIZE, height=QR_SIZE, qrLevel="M", hAlign="CENTER"),
        _paragraph(url, styles["url"]),
        Spacer(1, 4 * mm),
        _paragraph(
            _(
                "La page de vérification, à cette adresse, indique si la signature est toujours "
                "valable : elle montre la signature tant qu'elle est publiée, et dit si elle a "
                "été retirée."
            ),
            styles["body"],
        ),
        Spacer(1, 8 * mm),
        _paragraph(
            _("Document établi le %(date)s à partir du registre public des signatures.")
            % {"date": _date(timezone.now())},
            styles["small"],
        ),
    ]


def _facts(signature: Signature) -> list[tuple[str, str]]:
    declaration, territory = signature.declaration, signature.territory
    departement = territory.departement
    levels = ", ".join(str(label) for label in Signature.Verification.labels)
    return [
        (_("Déclaration"), f"« {declaration.title} »"),
        (_("Date de la déclaration"), _date(declaration.date)),
        (_("Territoire"), territory.name),
        (_("Type de territoire"), str(territory.get_kind_display())),
        (_("SIREN"), territory.siren or "—"),
        (
            _("Département"),
            f"{departement.name} ({departement.code})" if departement else "—",
        ),
        (_("Signataire"), signature.full_name),
        (_("Fonction"), signature.function_label),
        (_("Signée le"), _date(signature.confirmed_at or signature.submitted_at)),
        (_("Publiée le"), _date(signature.published_at)),
        (
            _("Niveau de vérification"),
            _("%(level)s (du plus fort au plus faible : %(levels)s)")
            % {"level": signature.get_verification_display(), "levels": levels},
        ),
        (_("Référence"), signature.public_id),
    ]


def _facts_table(facts: list[tuple[str, str]], styles: dict) -> Table:
    rows = [
        [_paragraph(label, styles["label"]), _paragraph(value, styles["value"])]
        for label, value in facts
    ]
    table = Table(rows, colWidths=[52 * mm, None], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#cccccc")),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
            ]
        )
    )
    return table


def _paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    # Paragraph reads a small markup language: the text is data, so escape it.
    return Paragraph(escape(winansi(text)), style)


def _date(value: datetime.date | datetime.datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime.datetime):
        value = timezone.localdate(value)
    return date_format(value, "j F Y")


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=14)
    return {
        "body": body,
        "brand": ParagraphStyle("brand", parent=body, textColor=GREY, spaceAfter=6 * mm),
        "title": ParagraphStyle(
            "title", parent=body, fontName=BOLD, fontSize=20, leading=24, spaceAfter=5 * mm
        ),
        "label": ParagraphStyle("label", parent=body, textColor=GREY),
        "value": ParagraphStyle("value", parent=body, fontName=BOLD),
        "url": ParagraphStyle("url", parent=body, fontSize=9.5, alignment=TA_CENTER),
        "small": ParagraphStyle("small", parent=body, fontSize=9, textColor=GREY),
    }
