from django.contrib import admin

from .models import Territory

# Columns the import owns: an edit there would be undone by the next import_territories.
IMPORTED_FIELDS = [
    "kind",
    "code",
    "siren",
    "name",
    "departement",
    "region",
    "epci",
    "population",
    "postal_codes",
    "is_referential",
    "is_active",
]


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "code", "siren", "departement", "population"]
    list_filter = ["kind", "is_referential", "is_active"]
    search_fields = ["name", "code", "siren", "postal_codes"]
    list_select_related = ["departement"]
    raw_id_fields = ["departement", "region", "epci"]

    def get_readonly_fields(self, request, obj=None):
        """The official rows are read-only; the territories signatories added stay editable."""
        if obj is not None and obj.is_referential:
            return IMPORTED_FIELDS
        return []

    def has_delete_permission(self, request, obj=None):
        # Signatures point at territories, and the import would recreate an official row.
        if obj is not None and obj.is_referential:
            return False
        return super().has_delete_permission(request, obj)
