"""Fixtures of the public pages' tests: a declaration with a goal, one as the public sees
it, and the contact form's address."""

import datetime

import pytest
from django.utils import timezone

from declarations.models import Network
from tests.factories import SignatureFactory

CONTACT = "contact@alliance.example.org"


@pytest.fixture
def declaration_with_goal(declaration):
    """The same declaration, aiming at 10 signing territories."""
    declaration.signature_goal = 10
    # Only this column: another fixture may have counted signatures on the row meanwhile.
    declaration.save(update_fields=["signature_goal"])
    return declaration


@pytest.fixture
def signed_declaration(declaration, territories, refresh_counts):
    """The declaration as the public sees it, its counts computed: two published signatures
    and one waiting for moderation, which must not show.

    - Toulouse Métropole test, by Jean-Luc Moudénc, two days ago, in the France urbaine
      network; contact details prive-1@toulouse.fr, 0561000000, 203.0.113.5;
    - Brest test, by Anne Kerdrel, yesterday; prive-2@brest.fr;
    - confirmed, not published: attente@x.fr.

    They cover 4,500 inhabitants: the métropole's two member communes and Brest.
    """
    now = timezone.now()
    toulouse = SignatureFactory(
        declaration=declaration,
        territory=territories["metropole"],
        status="published",
        first_name="Jean-Luc",
        last_name="Moudénc",
        published_at=now - datetime.timedelta(days=2),
        email="prive-1@toulouse.fr",
        phone="0561000000",
        submitted_ip="203.0.113.5",
    )
    toulouse.networks.add(Network.objects.get(slug="france-urbaine"))
    SignatureFactory(
        declaration=declaration,
        territory=territories["brest"],
        status="published",
        first_name="Anne",
        last_name="Kerdrel",
        published_at=now - datetime.timedelta(days=1),
        email="prive-2@brest.fr",
    )
    SignatureFactory(declaration=declaration, status="confirmed", email="attente@x.fr")
    refresh_counts(declaration)
    return declaration


@pytest.fixture
def contact_settings(settings):
    """The contact form shown, its messages going to CONTACT."""
    settings.CONTACT_EMAIL = CONTACT
    return settings
