"""What a signature's page lists below its facts: flags, contests, corrections, audit trail."""

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from signatures.models import Contest, Correction, Flag, ModerationEvent


class ReadOnlyInline(admin.TabularInline):
    """Rows shown on a signature's page that nobody adds, edits or deletes there."""

    extra = 0
    can_delete = False
    template = "admin/signatures/readonly_tabular.html"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class FlagInline(ReadOnlyInline):
    model = Flag
    empty_text = _("Aucun signal.")
    fields = ["code", "detail", "created_at"]
    readonly_fields = fields


class ModerationEventInline(ReadOnlyInline):
    """The audit trail, shown and never editable."""

    model = ModerationEvent
    empty_text = _("Aucune entrée.")
    fields = [
        "created_at",
        "action",
        "actor",
        "from_status",
        "to_status",
        "reason",
        "note",
        "notified_at",
        "notification_failed_at",
        "notification_error",
    ]
    readonly_fields = fields
    ordering = ["created_at", "pk"]


class ContestInline(ReadOnlyInline):
    model = Contest
    empty_text = _("Aucune contestation.")
    fields = [
        "submitted_at",
        "first_name",
        "last_name",
        "function",
        "email",
        "message",
        "outcome",
        "decided_at",
        "answered_at",
    ]
    readonly_fields = fields


class CorrectionInline(ReadOnlyInline):
    """Corrections the signatory proposed, with what each changes."""

    model = Correction
    empty_text = _("Aucune correction proposée.")
    fields = ["submitted_at", "changes", "outcome", "decided_at"]
    readonly_fields = fields

    @admin.display(description=_("modifications (public actuel → proposé)"))
    def changes(self, correction):
        return (
            format_html_join(
                mark_safe("<br>"),
                "<strong>{}</strong> : « {} » → « {} »",
                correction.changes(),
            )
            or "—"
        )
