from django.contrib import admin

from .models import Signature


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    list_display = [
        "territory",
        "full_name",
        "function",
        "email",
        "status",
        "submitted_at",
        "confirmed_at",
    ]
    list_filter = ["status", "declaration"]
    list_select_related = ["territory"]
    search_fields = ["last_name", "first_name", "email", "territory__name", "territory__siren"]
    raw_id_fields = ["territory"]
    readonly_fields = [
        "submitted_at",
        "confirmed_at",
        "published_at",
        "rejected_at",
        "withdrawn_at",
        "confirmation_queued_at",
        "confirmation_sent_at",
        "confirmation_send_count",
        "confirmation_failed_at",
        "confirmation_error",
        "submitted_ip",
    ]
    date_hierarchy = "submitted_at"
