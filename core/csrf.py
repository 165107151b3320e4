"""Django's CSRF protection, with one exception for the pages whose URL is the secret."""

from django.middleware.csrf import CsrfViewMiddleware

# Pages served with `Referrer-Policy: no-referrer` (their URL holds a personal token that must
# never leak in a Referer). Browsers then send `Origin: null` with their forms' POSTs.
NO_REFERRER_PATHS = ("/signatures/gerer/",)


class SiteCsrfViewMiddleware(CsrfViewMiddleware):
    """Accepts `Origin: null` on the no-referrer pages, and only there.

    The CSRF token (cookie and form field) is still required; and a forged
    request would also need the personal token in the URL, which is the
    secret itself.
    """

    def _origin_verified(self, request):
        if request.META.get("HTTP_ORIGIN") == "null" and request.path.startswith(
            NO_REFERRER_PATHS
        ):
            return True
        return super()._origin_verified(request)
