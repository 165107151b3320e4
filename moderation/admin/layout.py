"""A signature's page: its fieldsets, every field read-only (decisions go through the
moderation actions, which keep the audit trail)."""

from django.utils.translation import gettext_lazy as _

FIELDSETS = [
    (
        _("Territoire et signataire"),
        {
            "fields": [
                "territory",
                "territory_details",
                "sirene_link",
                "declaration",
                "civility",
                "first_name",
                "last_name",
                "function",
                "function_other",
                "email",
                "phone",
                "network_names",
                "comment",
            ]
        },
    ),
    (
        _("Statut et signaux"),
        {
            "fields": [
                "status",
                "flag_summary",
                "verification",
                "submitted_at",
                "confirmed_at",
                "published_at",
                "rejected_at",
                "withdrawn_at",
                "anonymised_at",
                "corrected_at",
                "public_id",
            ]
        },
    ),
    (
        _("Preuve du lien avec le territoire"),
        {
            "fields": [
                "deliberation_link",
                "deliberation_uploaded_at",
                "deliberation_review",
                "deliberation_reviewed_at",
                "deliberation_refusal_reason",
                "deliberation_refusal_note",
                "proconnect_siret",
                "proconnect_verified_at",
                "signs_on_behalf",
                "filler_first_name",
                "filler_last_name",
                "filler_function",
                "declares_authorised",
            ]
        },
    ),
    (
        _("Consentements"),
        {
            "classes": ["collapse"],
            "fields": [
                "consents_to_publication",
                "consents_to_news",
                "consent_version",
                "consented_at",
            ],
        },
    ),
    (
        _("Provenance de l'envoi"),
        {
            "classes": ["collapse"],
            "fields": [
                "fill_seconds",
                "submitted_ip",
                "ip_hash",
                "email_domain",
                "user_agent",
            ],
        },
    ),
    (
        _("E-mail de confirmation"),
        {
            "classes": ["collapse"],
            "fields": [
                "confirmation_queued_at",
                "confirmation_sent_at",
                "confirmation_send_count",
                "confirmation_failed_at",
                "confirmation_error",
            ],
        },
    ),
]

# Everything the page shows, and nothing else.
READONLY_FIELDS = [name for _title, options in FIELDSETS for name in options["fields"]]
