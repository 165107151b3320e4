"""core/after_response.py: work left for after the response, run once it has gone."""

import re
from io import BytesIO
from urllib.parse import urlencode

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory
from django.urls import reverse

from core.after_response import after_response
from signatures import tasks
from signatures.models import Signature
from tests.factories import signature_form_data


def test_outside_a_request_the_job_runs_at_once():
    done = []
    after_response(lambda: done.append(1))
    assert done == [1]


@pytest.fixture
def request_signals():
    """A request's start and end signals, without the database's own receivers (as
    Django's test client sends them): these tests use no database."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield lambda: request_started.send(sender=None), lambda: request_finished.send(sender=None)
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def test_in_a_request_jobs_wait_for_the_response_to_close_and_run_once(request_signals):
    start, finish = request_signals
    done = []
    start()
    after_response(lambda: done.append("first"))
    after_response(lambda: done.append("second"))
    assert done == []
    finish()
    assert done == ["first", "second"]
    finish()  # a second close runs nothing again
    after_response(lambda: done.append("outside"))
    assert done == ["first", "second", "outside"]


def test_a_failing_job_is_logged_and_the_others_still_run(request_signals, caplog):
    start, finish = request_signals
    done = []
    start()
    after_response(lambda: 1 / 0)
    after_response(lambda: done.append(1))
    finish()
    assert done == [1]
    assert "Work after the response failed" in caplog.text


class _Server:
    """Django's WSGI handler called as gunicorn calls it: the response comes back,
    and is closed only once it has been written (the caller's `close()` here)."""

    def __init__(self):
        self.handler = WSGIHandler()
        self.cookies = {}

    def call(self, request):
        request.environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.handler(request.environ, lambda status, headers: None)
        for cookie in response.cookies.values():
            self.cookies[cookie.key] = cookie.value
        return response


@pytest.mark.django_db(transaction=True)
def test_the_signing_post_queues_its_email_once_the_response_is_closed(
    declaration, territory, monkeypatch
):
    published = []
    monkeypatch.setattr(tasks.send_confirmation_email, "delay", published.append)
    url = reverse("signatures:sign", args=[declaration.slug])
    server, factory = _Server(), RequestFactory()
    page = server.call(factory.get(url))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    page.close()
    body = urlencode(
        {**signature_form_data(territory=territory.pk), "csrfmiddlewaretoken": token.group(1)}
    ).encode()
    request = factory.generic(
        "POST", url, content_type="application/x-www-form-urlencoded", data=body
    )
    request.environ["wsgi.input"] = BytesIO(body)
    response = server.call(request)
    try:
        assert response.status_code == 302
        signature = Signature.objects.get(territory=territory)
        assert signature.confirmation_queued_at is not None  # the sweeper's trace, committed
        assert published == []  # the response is on its way; nothing queued yet
    finally:
        response.close()
    assert published == [signature.pk]
