"""The empty signing form, rendered once, with a fresh CSRF token and start stamp each time."""

import re
import time

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from signatures.forms import STARTED_SALT
from signatures.models import Signature
from tests.factories import signature_form_data

pytestmark = pytest.mark.django_db


def _hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def test_blank_form_gets_its_own_token_and_start_and_signs(declaration, territory):
    browser = Client(enforce_csrf_checks=True)
    url = reverse("signatures:sign", args=[declaration.slug])
    other = Client().get(url).content.decode()  # someone else renders it first
    html = browser.get(url).content.decode()
    token = _hidden(html, "csrfmiddlewaretoken")
    assert token != _hidden(other, "csrfmiddlewaretoken")
    assert "placeholder-7d1c0e" not in html
    started = signing.loads(_hidden(html, "started"), salt=STARTED_SALT)
    assert abs(time.time() - started) < 5
    data = signature_form_data(territory=territory.pk, csrfmiddlewaretoken=token)
    assert browser.post(url, data).status_code == 302
    assert Signature.objects.filter(territory=territory).exists()


def test_blank_form_is_rendered_once(client, declaration, django_assert_num_queries):
    url = reverse("signatures:sign", args=[declaration.slug])
    client.get(url)
    with django_assert_num_queries(0):  # the declaration and the form come from memory
        response = client.get(url)
    assert "Signer la déclaration au nom de votre territoire" in response.content.decode()


def test_saving_the_declaration_shows_at_once_in_this_process(client, declaration):
    url = reverse("signatures:sign", args=[declaration.slug])
    client.get(url)
    declaration.is_open = False
    declaration.save()
    assert "Signer la déclaration" not in client.get(url).content.decode()


def test_a_submission_reads_the_declaration_afresh(client, declaration, territory):
    url = reverse("signatures:sign", args=[declaration.slug])
    client.get(url)
    # Closed by another process: this one still shows the form it keeps for a minute...
    type(declaration).objects.filter(pk=declaration.pk).update(is_open=False)
    assert "Signer la déclaration" in client.get(url).content.decode()
    # ...but a signature sent meanwhile is refused.
    response = client.post(url, signature_form_data(territory=territory.pk))
    assert response.status_code == 403
    assert not Signature.objects.exists()


def test_each_language_has_its_blank_form(client, declaration):
    url = reverse("signatures:sign", args=[declaration.slug])
    assert "Votre territoire" in client.get(url).content.decode()
    client.cookies["django_language"] = "en"
    assert "Your territory" in client.get(url).content.decode()
