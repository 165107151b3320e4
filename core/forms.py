"""What the views of public forms share: the page again, refused, when a POST may go no
further — past its rate limit, or invalid."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .resilience import over_limit


def refuse_post(
    request,
    *,
    scope: str,
    rate: str,
    template: str,
    context: dict,
    form=None,
    too_many: str = "",
) -> HttpResponse | None:
    """The page again when this POST may not be acted on, else None.

    Counts the request against `rate` for the client's IP in `scope` (over_limit,
    which fails open): past it, the page with `too_many` as an error message and a
    429; then, when a `form` is given and invalid, the page with its errors and a 400.
    """
    if over_limit(request, scope, rate):
        messages.error(
            request,
            too_many or _("Trop de demandes depuis votre connexion. Réessayez dans une heure."),
        )
        return render(request, template, context, status=429)
    if form is not None and not form.is_valid():
        return render(request, template, context, status=400)
    return None
