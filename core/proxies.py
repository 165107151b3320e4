"""The client's address, behind the reverse proxies this deployment trusts.

TRUSTED_PROXY_COUNT proxies in front of the site each append the address they
received to X-Forwarded-For; the client is the one the outermost trusted proxy
saw. With no trusted proxy, REMOTE_ADDR is the client. Never trust more entries
than there are proxies: the left part of the header is written by the client.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def client_ip_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit key: one bucket per client address."""
    return client_ip(request) or "unknown"
