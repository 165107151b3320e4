"""The list filters of the signatures' lists and of the audit trail."""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from signatures.models import Flag, Signature
from territories.models import Territory


class TerritoryKindFilter(admin.SimpleListFilter):
    title = _("type de territoire")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return Territory.Kind.choices

    def queryset(self, request, queryset):
        return queryset.filter(territory__kind=self.value()) if self.value() else queryset


class RegionFilter(admin.SimpleListFilter):
    title = _("région")
    parameter_name = "region"

    def lookups(self, request, model_admin):
        regions = Territory.objects.filter(kind__in=[Territory.Kind.REGION, Territory.Kind.COM])
        return [(str(r.pk), r.name) for r in regions.order_by("name")]

    def queryset(self, request, queryset):
        return queryset.filter(territory__region_id=self.value()) if self.value() else queryset


class NetworkFilter(admin.RelatedFieldListFilter):
    """The networks, and the signatures in none of them by name rather than "-"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.empty_value_display = _("Aucun réseau")


class FlagFilter(admin.SimpleListFilter):
    title = _("signal")
    parameter_name = "flag"

    def lookups(self, request, model_admin):
        return [*Flag.Code.choices, ("none", _("Aucun signal"))]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        flags = Flag.objects.filter(signature=OuterRef("pk"))
        if self.value() == "none":
            return queryset.filter(~Exists(flags))
        return queryset.filter(Exists(flags.filter(code=self.value())))


class DeliberationReviewFilter(admin.SimpleListFilter):
    """Deliberations by their review: those waiting for a moderator first."""

    title = _("délibération")
    parameter_name = "deliberation"

    def lookups(self, request, model_admin):
        return [*Signature.DeliberationReview.choices, ("none", _("Aucune délibération"))]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if self.value() == "none":
            return queryset.filter(deliberation="")
        # Not anonymised ones: their review stays, their file is gone.
        return queryset.filter(deliberation_review=self.value()).exclude(deliberation="")


class NotificationFailedFilter(admin.SimpleListFilter):
    title = _("e-mail au signataire")
    parameter_name = "notification"

    def lookups(self, request, model_admin):
        return [("failed", _("Échec d'envoi")), ("sent", _("Envoyé"))]

    def queryset(self, request, queryset):
        if self.value() == "failed":
            return queryset.filter(notification_failed_at__isnull=False)
        if self.value() == "sent":
            return queryset.filter(notified_at__isnull=False)
        return queryset
