from django.conf import settings
from django.http import HttpResponseRedirect, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .health import run_checks


@require_safe
@never_cache
def healthz(request):
    """Report each component; 503 when a configured one is down, for load balancers."""
    healthy, report = run_checks()
    return JsonResponse(
        {"status": "ok" if healthy else "error", "components": report},
        status=200 if healthy else 503,
    )


@require_safe
def switch_language(request):
    """The header's language switch: sets the language cookie and goes back.

    A GET form rather than Django's set_language (a POST): public pages then
    carry no CSRF token, so one rendering of a page serves every visitor
    (core/pagecache.py). Switching someone's language is all a forged
    link could do.
    """
    language = request.GET.get("language", "")
    next_url = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if check_for_language(language) and language in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=request.is_secure(),
            httponly=True,
        )
    return response
