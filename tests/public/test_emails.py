"""The contact form's emails (public.emails), as the form and its tasks send them."""

import pytest
from django.urls import reverse

from public import tasks

pytestmark = pytest.mark.django_db

CONTACT = "contact@alliance.example.org"  # as the contact_settings fixture sets it

ADDRESS = "voisin@exemple.fr"
# What somebody typing another person's address could want delivered to them.
NAME = "Votre compte est suspendu appelez le 08 99 00 00 00"
MESSAGE = "Gagnez 5000 euros : répondez avec vos coordonnées bancaires."


def _send_form(client, django_capture_on_commit_callbacks):
    data = {"name": NAME, "email": ADDRESS, "subject": "other", "message": MESSAGE, "website": ""}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("public:contact"), data)
    assert response.status_code == 302


def _texts(message) -> list[str]:
    return [message.subject, message.body, message.alternatives[0][0]]


@pytest.mark.usefixtures("contact_settings")
def test_contact_copy_acknowledges_receipt_without_what_the_sender_typed(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    _send_form(client, django_capture_on_commit_callbacks)
    message, copy = sorted(mailoutbox, key=lambda m: m.to != [CONTACT])
    assert copy.to == [ADDRESS]
    assert copy.subject == "Votre message à l'Alliance des territoires — Autre"
    for text in _texts(copy):
        assert "5000 euros" not in text
        assert "coordonnées bancaires" not in text
        assert "08 99" not in text
    assert copy.body.startswith("Bonjour,\n")
    assert "Nous avons bien reçu votre message" in copy.body
    # The team still reads everything the sender typed.
    assert message.to == [CONTACT]
    assert message.reply_to == [ADDRESS]
    for text in _texts(message):
        assert NAME in text
    assert MESSAGE in message.body
    assert "Gagnez 5000 euros" in message.alternatives[0][0]


def test_contact_copy_task_queued_with_the_text_leaves_it_out(mailoutbox):
    """A copy queued before the copy lost the text still carries it through the broker."""
    tasks.send_contact_copy(name=NAME, email=ADDRESS, subject="press", message=MESSAGE)
    (copy,) = mailoutbox
    assert copy.subject == "Votre message à l'Alliance des territoires — Presse"
    for text in _texts(copy):
        assert "08 99" not in text
        assert "5000 euros" not in text
