"""The signatures' two lists: every signature, and the moderators' queue of those
awaiting a decision. Rows are read-only; the status only changes through the moderation
decisions, from the list's actions or from a signature's page."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.urls import path

from signatures.models import ModerationQueue, Signature

from .actions import ContestAndCorrectionActionsMixin, SignatoryActionsMixin, StatusActionsMixin
from .columns import ColumnsMixin
from .decision_page import DecisionPageMixin
from .deliberation import DeliberationActionsMixin, DeliberationPageMixin
from .filters import (
    DeliberationReviewFilter,
    FlagFilter,
    NetworkFilter,
    RegionFilter,
    TerritoryKindFilter,
)
from .inlines import ContestInline, CorrectionInline, FlagInline, ModerationEventInline
from .layout import FIELDSETS, READONLY_FIELDS
from .sources import SourcesMixin


class SignatureAdminBase(
    DecisionPageMixin,
    DeliberationPageMixin,
    StatusActionsMixin,
    ContestAndCorrectionActionsMixin,
    SignatoryActionsMixin,
    DeliberationActionsMixin,
    ColumnsMixin,
    admin.ModelAdmin,
):
    """What both lists share: columns, filters, search, actions and the signature's page."""

    # Four wrapping columns rather than eleven: the list fits beside the filters at 1280 px.
    list_display = ["territory_column", "signatory_column", "status_column", "dates_column"]
    list_filter = [
        "status",
        "declaration",
        TerritoryKindFilter,
        RegionFilter,
        ("networks", NetworkFilter),
        FlagFilter,
        "verification",
        DeliberationReviewFilter,
    ]
    search_fields = [
        "first_name",
        "last_name",
        "email",
        "territory__name",
        "territory__siren",
        "territory__code",
    ]
    date_hierarchy = "submitted_at"
    list_select_related = ["territory__departement", "territory__region", "declaration"]
    list_per_page = 100
    actions = [
        "approve",
        "reject",
        "release",
        "keep_contested",
        "approve_correction",
        "reject_correction",
        "withdraw",
        "renew_manage_link",
        "resend_confirmation",
        "anonymise",
        "accept_deliberation",
        "refuse_deliberation",
        "make_deliberation_public",
        "make_deliberation_private",
    ]
    inlines = [FlagInline, ContestInline, CorrectionInline, ModerationEventInline]
    change_form_template = "admin/signatures/signature/change_form.html"
    # The raw file field would link to a storage URL nothing serves: deliberation_link instead.
    exclude = ["networks", "deliberation"]
    fieldsets = FIELDSETS
    readonly_fields = READONLY_FIELDS

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("flags", "networks")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # decisions go through the actions, which keep the audit trail

    def has_delete_permission(self, request, obj=None):
        return False  # anonymise instead: the territory and date still count

    def has_moderate_permission(self, request):
        """Every decision, action and moderation page asks for it ("moderate")."""
        return request.user.has_perm("signatures.moderate_signature")


@admin.register(Signature)
class SignatureAdmin(SourcesMixin, SignatureAdminBase):
    """Every signature, with the trending sources and the staff exports."""

    change_list_template = "admin/signatures/signature/change_list.html"

    def get_urls(self):
        own = [
            path(
                "sources/",
                self.admin_site.admin_view(self.sources_view),
                name="signatures_signature_sources",
            ),
            path(
                "sources/invalider/",
                self.admin_site.admin_view(self.invalidate_view),
                name="signatures_signature_invalidate",
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="signatures_signature_export",
            ),
        ]
        return own + super().get_urls()

    def has_export_permission(self, request) -> bool:
        """As django-import-export decides it, without importing the library."""
        codename = get_permission_codename(
            settings.IMPORT_EXPORT_EXPORT_PERMISSION_CODE, self.opts
        )
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_export_permission": self.has_export_permission(request),
            "ie_base_change_list_template": "admin/change_list.html",
        }
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        """django-import-export's export page and files, loaded at the first export.

        The library probes every spreadsheet format when it is imported, which loads
        openpyxl and Pillow: about 20 MiB in each web process for a page moderators
        open now and then (docs/performance.md, Memory).
        """
        from ..exports import SignatureExportAdmin  # noqa: PLC0415

        return SignatureExportAdmin(self.model, self.admin_site).export_action(request)


@admin.register(ModerationQueue)
class ModerationQueueAdmin(SignatureAdminBase):
    """What awaits a decision: contested signatures first, then confirmed ones oldest
    first, then suspect ones kept aside silently."""

    def get_queryset(self, request):
        # Not super(): ModelAdmin would order by `is_contested` before it is annotated.
        return (
            self.model._default_manager.awaiting_decision()
            .prefetch_related("flags", "networks")
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request):
        # "confirmed" sorts before "published" and "suspect": suspect ones come last.
        return ["-is_contested", "-has_correction", "status", "confirmed_at", "submitted_at", "pk"]
