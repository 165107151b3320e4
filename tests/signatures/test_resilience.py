"""Faults and abuse: bad input, a broker outage, lost emails, SMTP refusals, proxies."""

import datetime

import kombu.exceptions
import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from alliance.proxies import client_ip
from signatures import delivery, services, tasks
from signatures.models import Signature
from territories.search import search_territories
from tests.factories import DeclarationFactory, SignatureFactory, TerritoryFactory, fake_siren

pytestmark = pytest.mark.django_db


@pytest.fixture
def declaration():
    return DeclarationFactory()


def _form_data(**data):
    return {
        "first_name": "Camille",
        "last_name": "Durand",
        "function": "maire",
        "email": "camille@mairie-test.fr",
        "consents_to_publication": "on",
        **data,
    }


@pytest.mark.parametrize("value", ["²", "١٢", "abc", "-1", "9" * 40, "1.5"])
@pytest.mark.parametrize("action", ["", "search"])
def test_malformed_territory_values_never_crash(client, declaration, value, action):
    response = client.post(
        reverse("signatures:sign", args=[declaration.slug]),
        _form_data(territory=value, action=action, territory_query="x"),
    )
    assert response.status_code in (200, 400)
    assert Signature.objects.count() == 0


def test_broker_outage_keeps_the_signature_and_the_sweeper_sends_it(
    client, declaration, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    territory = TerritoryFactory()

    def broker_down(*args, **kwargs):
        raise kombu.exceptions.OperationalError("[Errno 111] Connection refused")

    with monkeypatch.context() as patched:
        patched.setattr(tasks.send_confirmation_email, "apply_async", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("signatures:sign", args=[declaration.slug]),
                _form_data(territory=territory.pk),
            )
    assert response.status_code == 302  # the visitor sees no error
    signature = Signature.objects.get()
    assert signature.confirmation_sent_at is None
    assert mailoutbox == []

    assert tasks.sweep_unsent_emails() == 0  # too recent to be presumed lost
    with freeze_time(timezone.now() + datetime.timedelta(minutes=11)):
        assert tasks.sweep_unsent_emails() == 1
        assert tasks.sweep_unsent_emails() == 0  # sent now: nothing left to sweep
    assert len(mailoutbox) == 1
    signature.refresh_from_db()
    assert signature.confirmation_send_count == 1


def test_sweeper_ignores_sent_failed_and_confirmed_signatures():
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    SignatureFactory(confirmation_queued_at=long_ago, confirmation_sent_at=long_ago)
    SignatureFactory(confirmation_queued_at=long_ago, confirmation_failed_at=long_ago)
    SignatureFactory(confirmation_queued_at=long_ago, status="confirmed")
    SignatureFactory(confirmation_queued_at=timezone.now() - datetime.timedelta(days=8))
    assert tasks.sweep_unsent_emails() == 0


def test_permanent_smtp_refusal_is_recorded_without_retrying(smtp_sink):
    smtp_sink.refuse_next = 100
    smtp_sink.refusal = "550 5.1.1 No such user here"
    signature = SignatureFactory(confirmation_queued_at=timezone.now())
    tasks.send_confirmation_email.delay(signature.pk)
    signature.refresh_from_db()
    assert signature.confirmation_failed_at is not None
    assert "550" in signature.confirmation_error
    assert smtp_sink.refuse_next == 99  # tried once, not retried


def test_resend_after_the_cooldown_sends_again(
    client, declaration, mailoutbox, django_capture_on_commit_callbacks
):
    territory = TerritoryFactory()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("signatures:sign", args=[declaration.slug]), _form_data(territory=territory.pk)
        )
    later = freeze_time(timezone.now() + datetime.timedelta(minutes=3))
    with later, django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("signatures:resend"), {"email": "camille@mairie-test.fr"})
    assert len(mailoutbox) == 2
    assert Signature.objects.get().confirmation_send_count == 2


def test_searching_without_javascript_does_not_use_up_the_signing_limit(client, declaration):
    territory = TerritoryFactory()
    url = reverse("signatures:sign", args=[declaration.slug])
    for _ in range(25):
        client.post(url, _form_data(action="search", territory_query="test"))
    assert client.post(url, _form_data(territory=territory.pk)).status_code == 302


def test_unlisted_territory_is_searchable_only_once_published(
    client, declaration, django_capture_on_commit_callbacks
):
    departement = TerritoryFactory(kind="departement")
    client.post(
        reverse("signatures:sign", args=[declaration.slug]),
        _form_data(
            not_listed="on",
            unlisted_kind="petr",
            unlisted_name="Zzyzx Pays Test",
            unlisted_siren=fake_siren(40),
            unlisted_departement=departement.pk,
        ),
    )
    signature = Signature.objects.select_related("territory").get()
    assert not signature.territory.is_active
    assert search_territories("zzyzx") == []
    services.confirm_signature(signature_id=signature.pk)
    assert search_territories("zzyzx") == []  # confirmed, not yet moderated
    services.change_status(signature_id=signature.pk, action="approve")
    assert [t.name for t in search_territories("zzyzx")] == ["Zzyzx Pays Test"]


def test_email_subject_keeps_apostrophes(mailoutbox):
    territory = TerritoryFactory(name="Agen-d'Aveyron")
    signature = SignatureFactory(territory=territory, confirmation_queued_at=timezone.now())
    tasks.send_confirmation_email.delay(signature.pk)
    assert mailoutbox[0].subject.endswith("— Agen-d'Aveyron")


def test_signature_made_while_open_can_be_confirmed_after_closing(declaration, client):
    signature = SignatureFactory(declaration=declaration)
    declaration.is_open = False
    declaration.save()
    client.post(reverse("signatures:confirm", args=[signature.make_confirmation_token()]))
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED


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
