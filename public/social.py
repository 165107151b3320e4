"""Sharing a declaration: its link-preview picture, and the Mastodon share hop.

The picture is drawn by Celery (signatures/social_image.py); this only serves
the stored bytes. Sharing uses plain links, never a third-party script.
"""

import re
import urllib.parse

from django import forms
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from declarations.models import Declaration
from signatures.models import SocialImage

# A host name: dot-separated labels of letters, digits and hyphens, a letter-only end.
HOST_NAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class MastodonShareForm(forms.Form):
    instance = forms.CharField(
        label=_("Votre serveur Mastodon"),
        max_length=253,
        help_text=_("Son adresse sans « https:// », par exemple mastodon.social."),
        widget=forms.TextInput(attrs={"autocomplete": "url", "spellcheck": "false"}),
    )
    text = forms.CharField(max_length=500, widget=forms.HiddenInput)

    def clean_instance(self) -> str:
        value = self.cleaned_data["instance"].strip().lower()
        value = value.removeprefix("https://").removeprefix("http://").split("/")[0]
        value = value.removeprefix("@").rpartition("@")[2]  # "@moi@piaille.fr" names a server
        if not HOST_NAME.match(value):
            raise forms.ValidationError(
                _("Indiquez l'adresse d'un serveur Mastodon, par exemple mastodon.social.")
            )
        return value


@require_safe
@cache_control(public=True, max_age=300)
def social_image(request, slug):
    """The declaration's og:image; a generic picture until the first one is drawn."""
    image = (
        SocialImage.objects.filter(declaration__slug=slug).values_list("image", "count").first()
    )
    if image is None:
        get_object_or_404(Declaration, slug=slug)
        return redirect(static("img/partage.png"))
    png, count = image
    response = HttpResponse(bytes(png), content_type="image/png")
    response["ETag"] = f'"{slug}-{count}"'
    return response


@require_safe
def share_on_mastodon(request):
    """A link to the share page of the visitor's own Mastodon server.

    Mastodon has no central share address, so the visitor names their server.
    The page shows a link to it rather than redirecting: a crafted address can
    then never send anyone elsewhere without them seeing where.
    """
    data = request.GET if "instance" in request.GET else None
    form = MastodonShareForm(data, initial={"text": request.GET.get("text", "")[:500]})
    share_url = None
    if form.is_valid():
        query = urllib.parse.urlencode({"text": form.cleaned_data["text"]})
        share_url = f"https://{form.cleaned_data['instance']}/share?{query}"
    return render(
        request,
        "public/share_mastodon.html",
        {"form": form, "share_url": share_url},
        status=400 if form.is_bound and form.errors else 200,
    )
