"""core.proxies: the client's address behind the trusted reverse proxies."""

import pytest
from django.test import RequestFactory

from core.proxies import client_ip


@pytest.mark.parametrize(
    ("count", "forwarded", "remote", "expected"),
    [
        (0, "203.0.113.1", "10.0.0.2", "10.0.0.2"),
        (1, "203.0.113.1", "10.0.0.2", "203.0.113.1"),
        (1, "198.51.100.66, 203.0.113.1", "10.0.0.2", "203.0.113.1"),  # left part is forgeable
        (2, "198.51.100.66, 203.0.113.1", "10.0.0.2", "198.51.100.66"),
        (2, "203.0.113.1", "10.0.0.2", "10.0.0.2"),  # fewer hops than proxies: not trusted
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(
    settings, count, forwarded, remote, expected
):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)
    assert client_ip(request) == expected
