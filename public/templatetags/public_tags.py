"""Pieces of the public reading that pages of other apps show: sharing, latest signatories."""

from django import template
from django.urls import reverse

from public.latest import latest_context

register = template.Library()


@register.inclusion_tag("includes/share.html", takes_context=True)
def share_links(context, declaration, text: str = "") -> dict:
    """Plain share links to the declaration (no third-party script), and copy-the-link."""
    request = context["request"]
    return {
        "share_url": request.build_absolute_uri(declaration.get_absolute_url()),
        "share_text": text or declaration.title,
        "mastodon_url": reverse("public:share_mastodon"),
    }


@register.inclusion_tag("includes/latest_signatories.html")
def latest_signatories(declaration) -> dict:
    """The home page's live count and five latest published signatories."""
    return latest_context(declaration)
