"""The emails of signatures.emails, as the tasks send them."""

import pytest
from django.utils import timezone

from signatures import services, signing, tasks
from tests.factories import SignatureFactory, TerritoryFactory

pytestmark = pytest.mark.django_db


def test_confirmation_email_subject_keeps_apostrophes(mailoutbox):
    territory = TerritoryFactory(name="Agen-d'Aveyron")
    signature = SignatureFactory(territory=territory, confirmation_queued_at=timezone.now())
    tasks.send_confirmation_email.delay(signature.pk)
    assert mailoutbox[0].subject.endswith("— Agen-d'Aveyron (autre)")


def test_every_email_names_the_territory_with_its_kind_and_departement(
    declaration, mailoutbox, django_capture_on_commit_callbacks
):
    """Three communes share "Saint-Sernin": the email must say which one signed."""
    ardeche = TerritoryFactory(kind="departement", name="Ardèche")
    aude = TerritoryFactory(kind="departement", name="Aude")
    TerritoryFactory(kind="commune", name="Saint-Sernin", departement=aude)
    commune = TerritoryFactory(kind="commune", name="Saint-Sernin", departement=ardeche)
    signature = SignatureFactory(declaration=declaration, territory=commune, function="maire")
    with django_capture_on_commit_callbacks(execute=True):
        signing.send_new_links(email=signature.email)
    services.change_status(signature_id=signature.pk, action="confirm")
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(signature_id=signature.pk, action="approve")
    assert len(mailoutbox) == 2
    for message in mailoutbox:
        assert "Saint-Sernin (commune, Ardèche)" in message.subject
        assert "Saint-Sernin (commune, Ardèche)" in message.body
        assert "Saint-Sernin (commune, Ardèche)" in message.alternatives[0][0]


def test_the_contest_acknowledgement_repeats_nothing_the_contester_typed(
    settings, mailoutbox, django_capture_on_commit_callbacks
):
    """It goes to an address anyone may type: what they typed must not reach it (the
    contact form's acknowledgement follows the same rule). Moderators get it all."""
    settings.CONTACT_EMAIL = "moderation@alliance.example.org"
    live = SignatureFactory(status="published")
    contester = services.Contester(
        first_name="Gagnez",
        last_name="Un Voyage En Appelant Le Numéro Affiché",
        function="Maire",
        email="voisin@exemple.fr",
        message="Texte libre envoyé à n'importe qui",
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.contest_signature(
            signature_id=live.pk, contester=contester, source=services.Source(ip="192.0.2.1")
        )
    (acknowledgement,) = [m for m in mailoutbox if m.to == ["voisin@exemple.fr"]]
    received = acknowledgement.body + acknowledgement.alternatives[0][0]
    for typed in ("Gagnez", "Voyage", "Texte libre"):
        assert typed not in received
    to_moderators = [m for m in mailoutbox if "moderation@alliance.example.org" in m.to]
    assert "Gagnez" in to_moderators[0].body


@pytest.mark.parametrize("contact", ["moderation@alliance.example.org", ""])
def test_a_refusal_says_how_to_contest_it(
    settings, contact, mailoutbox, django_capture_on_commit_callbacks
):
    settings.CONTACT_EMAIL = contact
    signature = SignatureFactory(status="confirmed")
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(
            signature_id=signature.pk, action="reject", reason="not_representative"
        )
    (email,) = mailoutbox
    assert "Pour contester cette décision" in email.body
    assert "un modérateur réexaminera alors la signature" in email.body
    assert "/signatures/gerer/" in email.body  # the page where the document is attached
    if contact:
        assert email.reply_to == [contact]
        assert f"répondez à cet e-mail (il arrive à {contact})" in email.body
    else:
        assert email.reply_to == []
        assert "signez de nouveau" in email.body
