from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from signatures.models import Signature

register = template.Library()


@register.simple_tag(takes_context=True)
def moderation_queue_notice(context) -> str:
    """On the admin index, how many signatures await a decision, for those who decide."""
    user = context["request"].user
    if not user.has_perm("signatures.moderate_signature"):
        return ""
    count = Signature.objects.awaiting_decision().count()
    label = ngettext("%(count)d signature à modérer", "%(count)d signatures à modérer", count) % {
        "count": count
    }
    return format_html(
        '<div class="module moderation-queue"><p><strong><a href="{}">{}</a></strong></p></div>',
        reverse("admin:signatures_moderationqueue_changelist"),
        label,
    )
