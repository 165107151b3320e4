"""Requests answered before any view: what no URL of the site can carry."""

from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _


def nul_in_path_is_not_found(get_response):
    """A path with a NUL names nothing: 404, before a view passes it to the database.

    PostgreSQL refuses NUL in any text, so a NUL in a slug, token or public id
    reaching a query was a 500. Query strings and form fields go through
    Django forms, whose character fields refuse NUL on their own.
    """

    def middleware(request):
        if "\x00" in request.path:
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": _("Introuvable.")}, status=404)
            raise Http404
        return get_response(request)

    return middleware
