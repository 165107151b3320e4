"""« Ce n'est pas nous ? »: an official reports a live signature that does not come
from their territory."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.forms import refuse_post
from core.proxies import client_ip

from ..forms import ContestForm
from ..models import Signature
from ..services import Source, contest_signature

CONTEST_RATE = "5/h"
TEMPLATE = "signatures/contest.html"
LIVE_SIGNATURES = Signature.objects.live().select_related("declaration", "territory__departement")


@require_http_methods(["GET", "POST"])
def contest(request, public_id):
    """ "Ce n'est pas nous ?": report a live signature that does not come from its territory."""
    signature = get_object_or_404(LIVE_SIGNATURES, public_id=public_id)
    form = ContestForm(request.POST or None)
    context = {"signature": signature, "declaration": signature.declaration, "form": form}
    if request.method == "GET":
        return render(request, TEMPLATE, context)
    if refusal := refuse_post(
        request, scope="contest", rate=CONTEST_RATE, template=TEMPLATE, context=context, form=form
    ):
        return refusal
    if not form.is_spam:  # a robot sees the same answer, nothing is recorded
        contest_signature(
            signature_id=signature.pk,
            contester=form.contester(),
            source=Source(ip=client_ip(request)),
        )
    messages.success(
        request,
        _(
            "Merci. Les modérateurs examinent votre signalement en priorité et vous "
            "répondront par e-mail."
        ),
    )
    return redirect(signature.declaration)
