"""Pieces of the public reading that pages of other apps show: sharing, latest signatories."""

import html

from django import template
from django.urls import reverse

from public.latest import latest_context

register = template.Library()


@register.inclusion_tag("includes/share.html", takes_context=True)
def share_links(context, declaration, text: str = "") -> dict:
    """Plain share links to the declaration (no third-party script), and copy-the-link.

    `text` comes from a template's `blocktranslate … asvar`, which escapes its variables
    for HTML (« l&#x27;opportunité »): it is read back as the plain text it stands for,
    so that share.html escapes it once for an attribute and URL-encodes it once for a
    link, and people share « l'opportunité ».
    """
    request = context["request"]
    return {
        "share_url": request.build_absolute_uri(declaration.get_absolute_url()),
        "share_text": html.unescape(str(text)) if text else declaration.title,
        "mastodon_url": reverse("public:share_mastodon"),
    }


@register.inclusion_tag("includes/latest_signatories.html")
def latest_signatories(declaration) -> dict:
    """The home page's live count and five latest published signatories."""
    return latest_context(declaration)
