"""The audit trail: every moderation decision and status change, read-only."""

from django.contrib import admin

from signatures.models import ModerationEvent

from .filters import NotificationFailedFilter


@admin.register(ModerationEvent)
class ModerationEventAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "action",
        "signature",
        "actor",
        "from_status",
        "to_status",
        "reason",
        "notified_at",
        "notification_failed_at",
    ]
    list_filter = ["action", "reason", NotificationFailedFilter]
    list_select_related = ["signature__territory", "actor"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
