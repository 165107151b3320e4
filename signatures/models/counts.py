"""What the public pages read instead of counting rows: the counts snapshot and the
link-preview picture."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from declarations.models import Declaration


class SignatureStats(models.Model):
    """Counts of a declaration's published signatures, recomputed by Celery.

    Public pages, the widget and the API read this snapshot (through the cache),
    so showing counts costs the same at 10 or 100,000 signatures and never
    contends with signing. See signatures/stats.py.
    """

    declaration = models.OneToOneField(
        Declaration,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="stats",
        verbose_name=_("déclaration"),
    )
    total = models.PositiveIntegerField(_("signatures publiées"), default=0)
    population = models.PositiveBigIntegerField(_("population couverte"), default=0)
    # {territory kind: count}
    by_kind = models.JSONField(_("par type de territoire"), default=dict)
    # [{"slug", "name", "count"}]
    by_network = models.JSONField(_("par réseau"), default=list)
    # [{"code", "name", "count"}]
    by_region = models.JSONField(_("par région"), default=list)
    # {code: signing territories}
    by_departement = models.JSONField(_("par département"), default=dict)
    # [["YYYY-MM-DD", count]], Paris dates
    by_day = models.JSONField(_("par jour"), default=list)
    # {verification level: count}
    by_verification = models.JSONField(_("par niveau de vérification"), default=dict)
    # Changes whenever the published set or what it shows changes: ETags use it.
    version = models.CharField(_("version"), max_length=64, blank=True)
    last_change_at = models.DateTimeField(_("dernier changement le"), null=True, blank=True)
    computed_at = models.DateTimeField(_("calculées le"), default=timezone.now)

    class Meta:
        verbose_name = _("statistiques")
        verbose_name_plural = _("statistiques")

    def __str__(self) -> str:
        return f"{self.declaration_id}: {self.total}"


class SocialImage(models.Model):
    """The picture link previews show for a declaration (og:image), with its count.

    Drawn by a Celery task whenever the published count changes (see
    signatures/social_image.py), kept in the database so every web process
    serves the same bytes without drawing anything in a request.
    """

    declaration = models.OneToOneField(
        Declaration,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="social_image",
        verbose_name=_("déclaration"),
    )
    image = models.BinaryField(_("image PNG"))
    # What the picture shows: redrawn when either changes.
    count = models.PositiveIntegerField(_("nombre affiché"))
    title = models.TextField(_("titre affiché"))
    made_at = models.DateTimeField(_("dessinée le"), default=timezone.now)

    class Meta:
        verbose_name = _("image de partage")
        verbose_name_plural = _("images de partage")

    def __str__(self) -> str:
        return f"{self.declaration_id}: {self.count}"
