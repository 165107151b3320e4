"""The signatures' CSV and XLSX exports in the admin, with django-import-export.

Imported by SignatureAdmin.export_view at the first export, not with the admin:
the library loads openpyxl and Pillow as it is imported.
"""

from import_export import fields, resources
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ExportForm

from signatures.models import Signature
from signatures.text import spreadsheet_safe

from .admin import SignatureAdmin


class SignatureResource(resources.ModelResource):
    """Every field, with the territory spelt out, for CSV and XLSX exports.

    Every cell goes through spreadsheet_safe: a comment "=HYPERLINK(…)" must
    never become a live formula in the file that holds every email and phone.
    """

    territory_name = fields.Field(attribute="territory__name", column_name="territoire")
    territory_kind = fields.Field(column_name="type de territoire")
    territory_code = fields.Field(attribute="territory__code", column_name="code officiel")
    territory_siren = fields.Field(attribute="territory__siren", column_name="SIREN")
    departement = fields.Field(attribute="territory__departement__name", column_name="département")
    region = fields.Field(attribute="territory__region__name", column_name="région")
    population = fields.Field(attribute="territory__population", column_name="population")
    network_names = fields.Field(column_name="réseaux")
    flag_codes = fields.Field(column_name="signaux")

    class Meta:
        model = Signature
        exclude = ["networks", "signatory_search"]

    def dehydrate_territory_kind(self, signature):
        return signature.territory.get_kind_display()

    def dehydrate_network_names(self, signature):
        return signature.network_names

    def dehydrate_flag_codes(self, signature):
        return ", ".join(f.code for f in signature.flags.all())

    def export_field(self, field, instance, **kwargs):
        return spreadsheet_safe(super().export_field(field, instance, **kwargs))


class SignatureExportAdmin(ExportMixin, SignatureAdmin):
    """The signatures' admin, its filters and search included, with the library's export."""

    resource_classes = [SignatureResource]
    export_formats = [CSV, XLSX]
    export_form_class = ExportForm  # every field, no per-field picking

    def init_request_context_data(self, request, form):
        # The export form posts back to this URL, keeping the changelist's filters.
        context = super().init_request_context_data(request, form)
        context["export_url"] = request.get_full_path()
        return context

    def get_export_queryset(self, request):
        return (
            super()
            .get_export_queryset(request)
            .select_related("territory__departement", "territory__region")
            .prefetch_related("networks", "flags")
        )
