"""signatures.flags: what makes moderators look twice at a signature."""

import datetime

import pytest
from django.utils import timezone

from moderation import flags
from signatures.models import Flag
from tests.factories import (
    DeclarationFactory,
    SignatureFactory,
    TerritoryFactory,
    form_started_stamp,
    signature_form_data,
)

pytestmark = pytest.mark.django_db

Code = Flag.Code


def _codes(signature):
    flags.refresh_flags(signature)
    return set(signature.flags.values_list("code", flat=True))


def test_a_careful_official_raises_no_flag():
    territory = TerritoryFactory(kind="commune", is_referential=True)
    signature = SignatureFactory(
        territory=territory, email="maire@ville.fr", fill_seconds=240, function="maire"
    )
    assert _codes(signature) == set()


def test_webmail_address_is_flagged():
    signature = SignatureFactory(email="jean.maire@Gmail.com", fill_seconds=240)
    assert Code.WEBMAIL in _codes(signature)
    assert signature.flags.get(code=Code.WEBMAIL).detail == "gmail.com"


def test_territory_outside_the_referential_is_flagged():
    territory = TerritoryFactory(kind="petr", is_referential=False, siren="200000000")
    assert Code.UNLISTED_TERRITORY in _codes(SignatureFactory(territory=territory))


@pytest.mark.parametrize(("seconds", "flagged"), [(None, True), (3, True), (8, False)])
def test_implausibly_fast_or_unstamped_forms_are_flagged(seconds, flagged):
    signature = SignatureFactory(fill_seconds=seconds)
    assert (Code.TOO_FAST in _codes(signature)) is flagged


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("comment", "Voir https://spam.example"),
        ("last_name", "<b>Dupont</b>"),
        ("first_name", "www.example.org"),
        ("comment", "[url=x]y[/url]"),
    ],
)
def test_links_or_markup_are_flagged(field, value):
    assert Code.MARKUP in _codes(SignatureFactory(**{field: value}, fill_seconds=60))


def test_one_domain_signing_for_many_territories_is_flagged():
    declaration = DeclarationFactory()
    signatures = [
        SignatureFactory(declaration=declaration, email=f"agent{i}@collectif.fr") for i in range(3)
    ]
    assert Code.DOMAIN_BURST in _codes(signatures[-1])
    other_declaration = SignatureFactory(email="agent9@collectif.fr")
    assert Code.DOMAIN_BURST not in _codes(other_declaration)


def test_domain_burst_counts_only_within_24_hours():
    declaration = DeclarationFactory()
    long_ago = timezone.now() - datetime.timedelta(days=3)
    for i in range(2):
        SignatureFactory(declaration=declaration, email=f"a{i}@x.fr", submitted_at=long_ago)
    signature = SignatureFactory(declaration=declaration, email="b@x.fr")
    assert Code.DOMAIN_BURST not in _codes(signature)


def test_one_ip_signing_for_many_territories_is_flagged():
    declaration = DeclarationFactory()
    for _ in range(2):
        SignatureFactory(declaration=declaration, submitted_ip="198.51.100.7")
    signature = SignatureFactory(declaration=declaration, submitted_ip="198.51.100.7")
    assert Code.IP_BURST in _codes(signature)


def test_same_territory_twice_is_not_a_burst():
    declaration, territory = DeclarationFactory(), TerritoryFactory()
    for i in range(3):
        last = SignatureFactory(
            declaration=declaration,
            territory=territory,
            submitted_ip="198.51.100.8",
            email=f"x{i}@mairie.fr",
        )
    assert {Code.IP_BURST, Code.DOMAIN_BURST}.isdisjoint(_codes(last))


def test_refresh_flags_drops_flags_that_no_longer_hold():
    signature = SignatureFactory(fill_seconds=60)
    signature.flags.create(code=Code.WEBMAIL, detail="old")
    assert _codes(signature) == {Code.UNLISTED_TERRITORY}


def test_refresh_flags_updates_a_detail_that_changed():
    signature = SignatureFactory(email="jean.maire@gmail.com", fill_seconds=240)
    signature.flags.create(code=Code.WEBMAIL, detail="old")
    flags.refresh_flags(signature)
    assert signature.flags.get(code=Code.WEBMAIL).detail == "gmail.com"


def test_refresh_flags_keeps_the_flags_moderators_set():
    signature = SignatureFactory(fill_seconds=240)
    signature.flags.create(code=Code.SUSPECT, detail="robot")
    flags.refresh_flags(signature)
    assert signature.flags.get(code=Code.SUSPECT).detail == "robot"


def test_refresh_flags_writes_only_what_changed(django_assert_num_queries, monkeypatch):
    """Computing reads other signatures (not counted here); storing is one read, then a
    single INSERT for new flags, and nothing more when they are already stored."""
    signature = SignatureFactory(email="jean.maire@gmail.com", fill_seconds=240)
    computed = flags.compute_flags(signature)
    assert computed
    monkeypatch.setattr(flags, "compute_flags", lambda _signature: computed)
    with django_assert_num_queries(2):
        flags.refresh_flags(signature)
    with django_assert_num_queries(1):
        flags.refresh_flags(signature)
    assert set(signature.flags.values_list("code", flat=True)) == set(computed)


def test_flags_are_computed_once_the_signature_is_committed(
    client, django_capture_on_commit_callbacks
):
    declaration = DeclarationFactory()
    territory = TerritoryFactory(kind="commune", is_referential=True)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(
            f"/declarations/{declaration.slug}/signer/",
            signature_form_data(
                territory=territory.pk,
                function="maire",
                email="camille@orange.fr",
                started=form_started_stamp(5),
            ),
        )
    signature = declaration.signatures.get()
    assert not signature.flags.exists()  # not in the request: a task, after commit
    for callback in callbacks:
        callback()  # Celery is eager here: the task runs now
    # Filled in 5 seconds (fast, yet not a robot's speed), from a webmail address.
    assert set(signature.flags.values_list("code", flat=True)) == {Code.WEBMAIL, Code.TOO_FAST}
    assert signature.fill_seconds == 5
    assert signature.status == "pending"
