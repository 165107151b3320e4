"""The declarations territories co-sign: their text, demands, initiators and founders."""

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Network(models.Model):
    """A network of local authorities: initiator of a declaration, joined by signatories."""

    slug = models.SlugField(_("identifiant"), unique=True)
    short_name = models.CharField(_("sigle"), max_length=40)
    name = models.CharField(_("nom"), max_length=200)
    description = models.CharField(_("description"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        ordering = ["position", "short_name"]
        verbose_name = _("réseau")
        verbose_name_plural = _("réseaux")

    def __str__(self) -> str:
        return self.short_name


class DeclarationQuerySet(models.QuerySet):
    def current(self) -> "Declaration | None":
        """The declaration shown at /: the one marked current, else the latest."""
        return self.order_by("-is_current", "-date", "-pk").first()


class Declaration(models.Model):
    class Moderation(models.TextChoices):
        PRE = "pre", _("a priori : publiée après validation")
        POST = "post", _("a posteriori : publiée dès confirmation")

    slug = models.SlugField(_("identifiant"), unique=True)
    title = models.CharField(_("titre"), max_length=300)
    subtitle = models.CharField(_("sous-titre"), max_length=300, blank=True)
    lead = models.TextField(_("chapeau"))
    body = models.TextField(_("corps"), help_text=_("Markdown : **gras** et paragraphes."))
    date = models.DateField(_("date"))
    place = models.CharField(_("lieu"), max_length=200, blank=True)
    initiators = models.ManyToManyField(
        Network, related_name="initiated_declarations", verbose_name=_("réseaux initiateurs")
    )
    is_current = models.BooleanField(
        _("déclaration en une"), default=False, help_text=_("Affichée à l'accueil du site.")
    )
    is_open = models.BooleanField(_("ouverte aux signatures"), default=True)
    opens_at = models.DateTimeField(_("ouverture des signatures"), null=True, blank=True)
    closes_at = models.DateTimeField(_("clôture des signatures"), null=True, blank=True)
    signature_goal = models.PositiveIntegerField(
        _("objectif de signatures"), null=True, blank=True
    )
    moderation = models.CharField(
        _("modération"), max_length=4, choices=Moderation, default=Moderation.PRE
    )
    # Kept up to date by the signatures app, so pages read one column rather
    # than counting rows (declarations never import signatures).
    signature_count = models.PositiveIntegerField(
        _("signatures publiées"), default=0, editable=False
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    objects = DeclarationQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("déclaration")
        verbose_name_plural = _("déclarations")
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=Q(is_current=True),
                name="one_current_declaration",
            ),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(opens_at__lt=models.F("closes_at")),
                name="declaration_opens_before_closing",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("declarations:detail", kwargs={"slug": self.slug})

    def is_signable(self, now=None) -> bool:
        """Open for signatures: switched on and inside the opening window."""
        now = now or timezone.now()
        if not self.is_open:
            return False
        if self.opens_at and now < self.opens_at:
            return False
        return not (self.closes_at and now >= self.closes_at)

    @property
    def goal_percent(self) -> int | None:
        return self.goal_percent_for(self.signature_count)

    def goal_percent_for(self, total: int) -> int | None:
        """Progress of `total` towards the goal, capped at 100; None without a goal."""
        if not self.signature_goal:
            return None
        return min(100, round(100 * total / self.signature_goal))


class DemandGroup(models.Model):
    """A lead-in of the text under which demands are listed, kept verbatim."""

    declaration = models.ForeignKey(
        Declaration,
        on_delete=models.CASCADE,
        related_name="demand_groups",
        verbose_name=_("déclaration"),
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    lead_in = models.TextField(_("introduction"))

    class Meta:
        ordering = ["declaration", "position", "pk"]
        verbose_name = _("groupe de demandes")
        verbose_name_plural = _("groupes de demandes")

    def __str__(self) -> str:
        return self.lead_in[:80]


class Demand(models.Model):
    group = models.ForeignKey(
        DemandGroup,
        on_delete=models.CASCADE,
        related_name="demands",
        verbose_name=_("groupe de demandes"),
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    heading = models.CharField(
        _("intitulé"), max_length=300, help_text=_("La partie en gras du texte.")
    )
    text = models.TextField(_("texte"), help_text=_("Markdown, intitulé compris en **gras**."))

    class Meta:
        ordering = ["group", "position", "pk"]
        verbose_name = _("demande")
        verbose_name_plural = _("demandes")

    def __str__(self) -> str:
        return self.heading


class Founder(models.Model):
    """A founding signatory, with the functions as written at the end of the text."""

    declaration = models.ForeignKey(
        Declaration,
        on_delete=models.CASCADE,
        related_name="founders",
        verbose_name=_("déclaration"),
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    name = models.CharField(_("nom"), max_length=200)
    functions = models.TextField(_("fonctions"), help_text=_("Une fonction par ligne."))
    network = models.ForeignKey(
        Network,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="founders",
        verbose_name=_("réseau"),
    )

    class Meta:
        ordering = ["declaration", "position", "pk"]
        verbose_name = _("signataire fondateur")
        verbose_name_plural = _("signataires fondateurs")

    def __str__(self) -> str:
        return self.name

    @property
    def function_lines(self) -> list[str]:
        return [line.strip() for line in self.functions.splitlines() if line.strip()]
