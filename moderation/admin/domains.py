"""Email domains known to belong to a territory, which moderators add and correct."""

from django.contrib import admin

from signatures.models import Signature
from signatures.proof import levels
from territories.models import TerritoryDomain


@admin.register(TerritoryDomain)
class TerritoryDomainAdmin(admin.ModelAdmin):
    """Email domains known to belong to a territory: their signatures rank "official domain"."""

    list_display = ["domain", "territory", "source", "created_at"]
    list_filter = ["source"]
    search_fields = ["domain", "territory__name", "territory__siren"]
    raw_id_fields = ["territory"]

    def save_model(self, request, obj, form, change):
        obj.domain = obj.domain.strip().lower()
        super().save_model(request, obj, form, change)
        # Signatures from this domain change level (and flags) now, not at their next event.
        for signature in Signature.objects.filter(email_domain=obj.domain).select_related(
            "territory"
        ):
            levels.refresh_proof(signature)
