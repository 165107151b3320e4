"""What the signatures' lists and pages show beyond the raw fields: the list's four
wrapping columns, and the page's computed facts (places, SIRENE link, flags, deliberation)."""

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

SIRENE_URL = "https://annuaire-entreprises.data.gouv.fr/entreprise/{}"


def _lines(*lines) -> str:
    """Cell lines of a list column: the first as is, the others smaller, each on its own line."""
    first, *others = lines
    return format_html(
        "{}{}",
        first,
        format_html_join("", '<span class="cell-detail">{}</span>', ((line,) for line in others)),
    )


def _deliberation_waits(signature) -> bool:
    return bool(signature.deliberation) and (
        signature.deliberation_review == signature.DeliberationReview.PENDING
    )


class ColumnsMixin:
    """The display methods of the signatures' admins, for their lists and pages."""

    @admin.display(description=_("territoire"), ordering="territory__name")
    def territory_column(self, signature):
        return _lines(signature.territory.name, self.territory_details(signature))

    @admin.display(description=_("signataire"), ordering="last_name")
    def signatory_column(self, signature):
        return _lines(
            signature.full_name,
            signature.function_label,
            format_html('<span class="cell-email">{}</span>', signature.email or "—"),
        )

    @admin.display(description=_("statut"), ordering="status")
    def status_column(self, signature):
        return _lines(
            signature.get_status_display(),
            _("vérification : %(level)s") % {"level": signature.get_verification_display()},
            *([_("Délibération à examiner")] if _deliberation_waits(signature) else []),
            *[str(flag) for flag in signature.flags.all()],
        )

    @admin.display(description=_("dates"), ordering="submitted_at")
    def dates_column(self, signature):
        dates = [
            (_("soumise le %(date)s"), signature.submitted_at),
            (_("confirmée le %(date)s"), signature.confirmed_at),
        ]
        return _lines(
            *[
                label % {"date": date_format(timezone.localtime(at), "SHORT_DATETIME_FORMAT")}
                for label, at in dates
                if at
            ]
        )

    @admin.display(description=_("type et lieu"))
    def territory_details(self, signature):
        territory = signature.territory
        places = [t.name for t in (territory.departement, territory.region) if t]
        return " — ".join([territory.get_kind_display(), *dict.fromkeys(places)])

    @admin.display(description=_("fiche SIRENE"))
    def sirene_link(self, signature):
        """The official company register's page of the territory, to judge its eligibility."""
        siren = signature.territory.siren
        if not siren:
            return _("SIREN inconnu")
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            SIRENE_URL.format(siren),
            _("SIREN %(siren)s sur l'Annuaire des entreprises (nouvel onglet)") % {"siren": siren},
        )

    @admin.display(description=_("signaux"))
    def flag_summary(self, signature):
        return ", ".join(str(flag) for flag in signature.flags.all()) or "—"

    @admin.display(description=_("réseaux"))
    def network_names(self, signature):
        return signature.network_names or "—"

    @admin.display(description=_("délibération ou mandat"))
    def deliberation_link(self, signature):
        if not signature.deliberation:
            return "—"
        return format_html(
            '<a href="{}">{}</a> — {} — {}',
            reverse("signatures:deliberation", args=[signature.public_id]),
            _("Délibération : ouvrir (PDF)"),
            _("publique") if signature.deliberation_is_public else _("privée"),
            signature.get_deliberation_review_display(),
        )
