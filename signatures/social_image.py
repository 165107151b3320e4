"""The link-preview picture of a declaration: its title and how many territories signed.

Drawn with Pillow by a Celery task (`signatures.render_social_image`) when the
published count changes, stored in `SocialImage`, served by `public.social`.
Nothing here runs in a web request.
"""

import io
from pathlib import Path

from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, override
from PIL import Image, ImageDraw, ImageFont

from declarations.models import Declaration

from .models import SignatureStats, SocialImage

WIDTH, HEIGHT = 1200, 630  # the size link previews ask for (1.91:1)
MARGIN = 72
BACKGROUND = "#0b3d91"
INK = "#ffffff"
ACCENT = "#ffd166"
# DejaVu ships with Debian and the Docker image; Pillow's own font stands in elsewhere.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap; an over-long text ends with an ellipsis on its last line."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = f"{lines[-1].rstrip(',;:.')}…"
    return lines


def draw_social_image(*, title: str, count: int | None, site_name: str) -> bytes:
    """A 1200×630 PNG: the site's name, the declaration's title, the count in large type.

    Without a count (the generic picture in static/img/) the call to sign stands instead.
    """
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    text_width = WIDTH - 2 * MARGIN

    draw.text((MARGIN, MARGIN), site_name.upper(), font=_font(30, bold=True), fill=ACCENT)
    title_font = _font(44, bold=True)
    y = MARGIN + 64
    for line in _wrap(draw, title, title_font, text_width, max_lines=4):
        draw.text((MARGIN, y), line, font=title_font, fill=INK)
        y += 56

    baseline = HEIGHT - MARGIN - 40
    if count is None:
        with override("fr"):
            call = _("Signez pour votre territoire")
        draw.text((MARGIN, baseline), call, font=_font(60, bold=True), fill=ACCENT, anchor="ls")
        return _png(image)
    with override("fr"):  # the declaration and its preview are French
        figure = number_format(count, force_grouping=True)
        caption = ngettext("territoire a signé", "territoires ont signé", count)
    count_font = _font(96, bold=True)
    draw.text((MARGIN, baseline), figure, font=count_font, fill=ACCENT, anchor="ls")
    figure_width = draw.textlength(figure, font=count_font)
    draw.text(
        (MARGIN + figure_width + 24, baseline), caption, font=_font(44), fill=INK, anchor="ls"
    )

    return _png(image)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def render_social_image(*, declaration_id: int) -> SocialImage | None:
    """Draw the declaration's picture again if its count or title changed.

    Side effects: creates or rewrites the `SocialImage` row. Returns None when
    the declaration is gone. Two runs at once draw twice but store the same thing.
    """
    declaration = Declaration.objects.filter(pk=declaration_id).first()
    if declaration is None:
        return None
    count = (
        SignatureStats.objects.filter(declaration_id=declaration_id)
        .values_list("total", flat=True)
        .first()
    ) or 0
    current = SocialImage.objects.filter(declaration_id=declaration_id).first()
    if current and current.count == count and current.title == declaration.title:
        return current
    with override("fr"):
        site_name = _("Alliance des territoires")
    png = draw_social_image(title=declaration.title, count=count, site_name=site_name)
    image, _created = SocialImage.objects.update_or_create(
        declaration_id=declaration_id,
        defaults={
            "image": png,
            "count": count,
            "title": declaration.title,
            "made_at": timezone.now(),
        },
    )
    return image


def stale_social_images() -> list[int]:
    """Declarations whose picture is missing or shows another count or title."""
    fresh = (
        SocialImage.objects.annotate(total=Coalesce("declaration__stats__total", 0))
        .filter(count=F("total"), title=F("declaration__title"))
        .values("declaration_id")
    )
    return list(Declaration.objects.exclude(pk__in=fresh).values_list("pk", flat=True))
