"""New links by email: a confirmation link, or a "manage" link. Both pages answer the
same whether the address is known or not, so they tell nobody which addresses signed."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.forms import refuse_post

from ..forms import ResendForm
from ..managing import send_manage_links
from ..signing import send_new_links

RESEND_RATE = "10/h"


@require_http_methods(["GET", "POST"])
def resend(request):
    """A new confirmation link; answers the same whether the address is known or not."""
    return _links_by_email(
        request,
        template="signatures/resend.html",
        send=send_new_links,
        sent=_(
            "Si une signature en attente correspond à cette adresse, un nouveau lien "
            "de confirmation vient d'y être envoyé."
        ),
    )


@require_http_methods(["GET", "POST"])
def manage_request(request):
    """A new "manage" link, by email; answers the same whether the address is known or not."""
    return _links_by_email(
        request,
        template="signatures/manage_request.html",
        send=send_manage_links,
        sent=_(
            "Si des signatures correspondent à cette adresse, un lien personnel pour "
            "les gérer vient d'y être envoyé."
        ),
    )


def _links_by_email(request, *, template: str, send, sent: str):
    """The form asking for links by email: rate-limited, and the same answer for any address."""
    form = ResendForm(request.POST or None)
    context = {"form": form}
    if request.method == "GET":
        return render(request, template, context)
    if refusal := refuse_post(
        request, scope=template, rate=RESEND_RATE, template=template, context=context, form=form
    ):
        return refusal
    send(email=form.cleaned_data["email"])
    messages.success(request, sent)
    return redirect(request.path)
