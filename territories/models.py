"""The official territory referential (COG and EPCI), plus territories signatories add."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .normalize import normalize


class Territory(models.Model):
    class Kind(models.TextChoices):
        REGION = "region", _("Région")
        DEPARTEMENT = "departement", _("Département")
        COM = "com", _("Collectivité d'outre-mer")
        METROPOLE = "metropole", _("Métropole")
        CU = "cu", _("Communauté urbaine")
        CA = "ca", _("Communauté d'agglomération")
        CC = "cc", _("Communauté de communes")
        EPT = "ept", _("Établissement public territorial")
        COMMUNE = "commune", _("Commune")
        PETR = "petr", _("PETR / Pays")
        PNR = "pnr", _("Parc naturel régional")
        SYNDICAT_MIXTE = "syndicat_mixte", _("Syndicat mixte")
        OTHER = "autre", _("Autre")

    # Kinds the official referential provides; the others are added by signatories.
    REFERENTIAL_KINDS = frozenset(
        {
            Kind.REGION,
            Kind.DEPARTEMENT,
            Kind.COM,
            Kind.METROPOLE,
            Kind.CU,
            Kind.CA,
            Kind.CC,
            Kind.EPT,
            Kind.COMMUNE,
        }
    )
    EPCI_KINDS = frozenset({Kind.METROPOLE, Kind.CU, Kind.CA, Kind.CC, Kind.EPT})
    UNLISTED_KINDS = (Kind.PETR, Kind.PNR, Kind.SYNDICAT_MIXTE, Kind.OTHER)

    kind = models.CharField(_("type"), max_length=20, choices=Kind)
    code = models.CharField(
        _("code officiel"), max_length=12, help_text=_("Code INSEE (COG) ou SIREN de l'EPCI.")
    )
    siren = models.CharField(_("SIREN"), max_length=9, null=True, blank=True)
    name = models.CharField(_("nom"), max_length=200)
    departement = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind__in": ["departement", "com"]},
        verbose_name=_("département"),
    )
    region = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind__in": ["region", "com"]},
        verbose_name=_("région"),
    )
    epci = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="communes",
        verbose_name=_("intercommunalité"),
    )
    population = models.PositiveIntegerField(_("population municipale"), null=True, blank=True)
    postal_codes = models.TextField(
        _("codes postaux"), blank=True, help_text=_("Séparés par des espaces.")
    )
    is_referential = models.BooleanField(
        _("référentiel officiel"),
        default=True,
        help_text=_("Faux pour un territoire ajouté par un signataire."),
    )
    is_active = models.BooleanField(
        _("actif"),
        default=True,
        help_text=_("Faux quand le territoire a disparu du référentiel (fusion…)."),
    )
    # Lower-case, unaccented, punctuation-free name: the same search on SQLite and PostgreSQL.
    # Text: normalising can lengthen a name ("Ⅷ" → "viii"), so no length limit.
    search_name = models.TextField(_("nom pour la recherche"), editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("territoire")
        verbose_name_plural = _("territoires")
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="territory_unique_kind_code"),
            models.UniqueConstraint(
                fields=["siren"], condition=Q(siren__isnull=False), name="territory_unique_siren"
            ),
            # Identifiers are ASCII: "３１５５５" or "٣١٥٥٥" must never be a second Toulouse.
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9A-Z]{1,12}$"), name="territory_code_ascii"
            ),
            models.CheckConstraint(
                condition=Q(siren__isnull=True) | Q(siren__regex=r"^[0-9]{9}$"),
                name="territory_siren_ascii_digits",
            ),
            models.CheckConstraint(
                condition=Q(postal_codes__regex=r"^[0-9 ]*$"),
                name="territory_postal_codes_ascii_digits",
            ),
        ]
        # (kind, code) is unique, but the search looks a code up without its kind.
        indexes = [models.Index(fields=["code"], name="territory_code_idx")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.search_name = normalize(self.name)
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        """The name, its kind and département, for a sentence: homonyms told apart.

        "Saint-Sernin (commune, Ardèche)", "Haute-Garonne (département)".
        """
        details = [str(self.get_kind_display()).lower()]
        if self.departement_id and self.departement_id != self.pk:
            details.append(self.departement.name)
        return f"{self.name} ({', '.join(details)})"

    @property
    def label(self) -> str:
        """Name with kind and département, to tell apart homonyms in lists."""
        parts = [self.get_kind_display()]
        if self.departement_id and self.departement_id != self.pk:
            parts.append(f"{self.departement.name} ({self.departement.code})")
        return f"{self.name} — {', '.join(str(p) for p in parts)}"


class TerritoryDomain(models.Model):
    """An email domain known to belong to a territory's administration.

    Learnt from a signature verified by ProConnect (the organisation's SIREN
    matched the territory), or entered by a moderator. A signature from such a
    domain reaches the "official domain" level; from a domain known for another
    territory, it is flagged.
    """

    class Source(models.TextChoices):
        PROCONNECT = "proconnect", _("appris d'une signature ProConnect")
        MODERATOR = "moderator", _("confirmé par un modérateur")

    territory = models.ForeignKey(
        Territory, on_delete=models.CASCADE, related_name="domains", verbose_name=_("territoire")
    )
    domain = models.CharField(_("domaine"), max_length=254, unique=True)
    source = models.CharField(_("source"), max_length=12, choices=Source)
    created_at = models.DateTimeField(_("ajouté le"), auto_now_add=True)

    class Meta:
        ordering = ["domain"]
        verbose_name = _("domaine e-mail officiel")
        verbose_name_plural = _("domaines e-mail officiels")
        constraints = [
            models.CheckConstraint(
                condition=Q(domain=Lower("domain")), name="territory_domain_lower_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.domain} → {self.territory}"
