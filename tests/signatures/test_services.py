"""The workflows of signatures.services: signing, confirming, moderating, anonymising,
with their side effects (audit trail, counts, emails after commit)."""

import pytest
from django.urls import reverse

from declarations.models import Declaration
from moderation import decisions
from signatures import services, signing, stats
from signatures.models import ModerationEvent, Signature
from territories.search import search_territories
from tests.conftest import run_concurrently
from tests.factories import (
    DeclarationFactory,
    SignatureFactory,
    TerritoryFactory,
    fake_siren,
    signature_form_data,
    unlisted_territory_data,
)

pytestmark = pytest.mark.django_db

Action = ModerationEvent.Action


def _signatory(email="elu@territoire.fr", **overrides):
    data = {
        "first_name": "Dominique",
        "last_name": "Martin",
        "function": "maire",
        "function_other": "",
        "email": email,
        "phone": "",
        "comment": "",
        "consents_to_news": False,
    }
    data.update(overrides)
    return signing.Signatory(**data)


def _sign(declaration, territory, **signatory):
    return signing.sign_declaration(
        declaration=declaration,
        territory=territory,
        signatory=_signatory(**signatory),
        networks=[],
        source=services.Source(),
    )


def _decide(signature, action, moderator, **kwargs):
    return services.change_status(
        signature_id=signature.pk, action=action, actor=moderator, **kwargs
    )


def test_sign_declaration_updates_the_pending_signature_of_the_same_address(
    django_capture_on_commit_callbacks,
):
    declaration, territory = DeclarationFactory(), TerritoryFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = _sign(declaration, territory)
        second = signing.sign_declaration(
            declaration=declaration,
            territory=territory,
            signatory=_signatory(email="ELU@territoire.fr", comment="Corrigé"),
            networks=[],
            source=services.Source(),
        )
    assert first.pk == second.pk
    assert Signature.objects.get().comment == "Corrigé"


def test_sign_declaration_refuses_a_territory_with_a_live_signature():
    live = SignatureFactory(status="published")
    with pytest.raises(services.TerritoryAlreadySigned) as caught:
        signing.sign_declaration(
            declaration=live.declaration,
            territory=live.territory,
            signatory=_signatory(),
            networks=[],
            source=services.Source(),
        )
    assert caught.value.live == live


def test_get_or_create_unlisted_territory_reuses_an_official_siren():
    official = TerritoryFactory(kind="cc", siren=fake_siren(10))
    departement = TerritoryFactory(kind="departement")
    found = services.get_or_create_unlisted_territory(
        services.UnlistedTerritory(
            kind="petr", name="Faux nom", siren=official.siren, departement=departement
        )
    )
    assert found == official


def test_unlisted_territory_becomes_searchable_only_once_published(
    client, declaration, django_capture_on_commit_callbacks
):
    departement = TerritoryFactory(kind="departement")
    client.post(
        reverse("signatures:sign", args=[declaration.slug]),
        signature_form_data(
            **unlisted_territory_data(
                name="Zzyzx Pays Test", siren=fake_siren(40), departement=departement
            )
        ),
    )
    signature = Signature.objects.select_related("territory").get()
    assert not signature.territory.is_active
    assert search_territories("zzyzx") == []
    services.confirm_signature(signature_id=signature.pk)
    assert search_territories("zzyzx") == []  # confirmed, not yet moderated
    services.change_status(signature_id=signature.pk, action="approve")
    assert [t.name for t in search_territories("zzyzx")] == ["Zzyzx Pays Test"]


def test_confirm_signature_refuses_one_that_is_not_pending():
    signature = SignatureFactory(status="rejected")
    with pytest.raises(services.InvalidTransition):
        services.confirm_signature(signature_id=signature.pk)


def test_confirm_signature_records_the_event_without_an_actor():
    signature = SignatureFactory(declaration=DeclarationFactory(moderation="post"))
    services.confirm_signature(signature_id=signature.pk)
    event = signature.events.get()
    assert (event.actor, event.action, event.to_status) == (None, Action.CONFIRM, "published")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_confirmations_leave_one_confirmed_signature():
    declaration, territory = DeclarationFactory(), TerritoryFactory()
    pending = [
        SignatureFactory(declaration=declaration, territory=territory, email=f"elu{i}@t.fr")
        for i in range(20)
    ]
    results = run_concurrently(
        20, lambda i: services.confirm_signature(signature_id=pending[i].pk)
    )
    winners = [r for r in results if isinstance(r, Signature)]
    losers = [r for r in results if isinstance(r, services.TerritoryAlreadySigned)]
    assert len(winners) == 1, results
    assert len(losers) == 19, results
    assert Signature.objects.live().filter(territory=territory).count() == 1
    assert Signature.objects.pending().filter(territory=territory).count() == 19


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_submissions_create_one_signature():
    declaration, territory = DeclarationFactory(), TerritoryFactory()
    results = run_concurrently(
        10,
        lambda i: _sign(declaration, territory),
    )
    assert all(isinstance(r, Signature) for r in results), results
    assert Signature.objects.count() == 1
    assert len({r.pk for r in results}) == 1


def test_change_status_approve_publishes_records_and_emails(
    moderator, mailoutbox, django_capture_on_commit_callbacks
):
    signature = SignatureFactory(status="confirmed")
    with django_capture_on_commit_callbacks(execute=True):
        _decide(signature, Action.APPROVE, moderator)
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PUBLISHED
    assert signature.published_at is not None
    event = signature.events.get()
    assert (event.actor, event.action, event.from_status, event.to_status) == (
        moderator,
        Action.APPROVE,
        "confirmed",
        "published",
    )
    assert event.notified_at is not None
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject.startswith("Votre signature est publiée")
    assert mailoutbox[0].to == [signature.email]
    signature.declaration.refresh_from_db()
    assert signature.declaration.signature_count == 1


def test_change_status_reject_records_the_reason_and_tells_the_signatory(
    moderator, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.CONTACT_EMAIL = "contact@alliance.example.org"
    signature = SignatureFactory(status="confirmed")
    with django_capture_on_commit_callbacks(execute=True):
        _decide(
            signature,
            Action.REJECT,
            moderator,
            reason=ModerationEvent.Reason.NOT_REPRESENTATIVE,
            note="Le maire est M. Autre.",
        )
    signature.refresh_from_db()
    assert signature.status == Signature.Status.REJECTED
    assert signature.rejected_at is not None
    event = signature.events.get()
    assert event.reason == "not_representative"
    assert event.note == "Le maire est M. Autre."
    message = mailoutbox[0]
    assert message.subject.startswith("Votre signature n'a pas été retenue")
    assert "La personne ne représente pas ce territoire" in message.body
    assert "Le maire est M. Autre." in message.body
    assert "contact@alliance.example.org" in message.body


def test_change_status_reject_of_a_published_signature_updates_the_count(
    moderator, django_capture_on_commit_callbacks
):
    declaration = DeclarationFactory(signature_count=1)
    signature = SignatureFactory(declaration=declaration, status="published")
    with django_capture_on_commit_callbacks(execute=True):
        _decide(signature, Action.REJECT, moderator, reason="abusive")
    declaration.refresh_from_db()
    assert declaration.signature_count == 0


def test_change_status_withdraw_acknowledges_it_by_email(
    moderator, mailoutbox, django_capture_on_commit_callbacks
):
    signature = SignatureFactory(status="published")
    with django_capture_on_commit_callbacks(execute=True):
        _decide(signature, Action.WITHDRAW, moderator)
    signature.refresh_from_db()
    assert signature.status == Signature.Status.WITHDRAWN
    assert signature.withdrawn_at is not None
    assert [message.to for message in mailoutbox] == [[signature.email]]
    assert "est retirée" in mailoutbox[0].subject
    assert "/signatures/gerer/" in mailoutbox[0].body


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("pending", Action.APPROVE),
        ("published", Action.APPROVE),
        ("withdrawn", Action.REJECT),
        ("confirmed", Action.CONFIRM),
    ],
)
def test_change_status_refuses_actions_from_the_wrong_status(moderator, status, action):
    signature = SignatureFactory(status=status)
    with pytest.raises(services.InvalidTransition):
        _decide(signature, action, moderator)
    assert signature.events.count() == 0


def test_change_status_refuses_a_second_publication_for_a_territory(moderator):
    published = SignatureFactory(status="published")
    rejected = SignatureFactory(
        declaration=published.declaration, territory=published.territory, status="rejected"
    )
    with pytest.raises(services.TerritoryAlreadySigned):
        _decide(rejected, Action.APPROVE, moderator)
    rejected.refresh_from_db()
    assert rejected.status == Signature.Status.REJECTED
    assert rejected.events.count() == 0


def test_resend_link_for_moderator_queues_a_new_link_and_records_it(
    moderator, mailoutbox, django_capture_on_commit_callbacks
):
    signature = SignatureFactory(status="pending")
    with django_capture_on_commit_callbacks(execute=True):
        assert decisions.resend_link_for_moderator(signature_id=signature.pk, actor=moderator)
    assert len(mailoutbox) == 1
    assert "Confirmez la signature" in mailoutbox[0].subject
    assert signature.events.get().action == Action.RESEND
    confirmed = SignatureFactory(status="confirmed")
    assert not decisions.resend_link_for_moderator(signature_id=confirmed.pk, actor=moderator)


def test_anonymise_signature_erases_personal_data_and_keeps_the_count(
    moderator, django_capture_on_commit_callbacks
):
    declaration = DeclarationFactory(moderation=Declaration.Moderation.POST)
    signature = SignatureFactory(
        declaration=declaration,
        status="published",
        phone="0561000000",
        comment="Mon avis",
        submitted_ip="203.0.113.9",
    )
    signature.flags.create(code="webmail", detail="gmail.com")
    with django_capture_on_commit_callbacks(execute=True):
        services.anonymise_signature(signature_id=signature.pk, actor=moderator)
        stats.refresh_stats(declaration_id=declaration.pk)
    signature.refresh_from_db()
    assert (signature.first_name, signature.last_name, signature.email) == ("", "", "")
    assert (signature.phone, signature.comment, signature.submitted_ip) == ("", "", None)
    assert signature.full_name == "Signataire anonymisé·e"
    assert signature.status == Signature.Status.PUBLISHED
    assert signature.flags.count() == 0
    assert signature.events.get().action == Action.ANONYMISE
    declaration.refresh_from_db()
    assert declaration.signature_count == 1


def test_anonymise_signature_withdraws_a_pending_one(moderator):
    signature = SignatureFactory(status="pending")
    services.anonymise_signature(signature_id=signature.pk, actor=moderator)
    signature.refresh_from_db()
    assert signature.status == Signature.Status.WITHDRAWN
    assert [e.action for e in signature.events.order_by("pk")] == [
        Action.WITHDRAW,
        Action.ANONYMISE,
    ]


def test_anonymise_signature_erases_who_filled_the_form_on_behalf_too(moderator):
    signature = SignatureFactory(
        status="published",
        signs_on_behalf=True,
        filler_first_name="Claire",
        filler_last_name="Martin",
        filler_function="Directrice de cabinet",
    )
    services.anonymise_signature(signature_id=signature.pk, actor=moderator)
    signature.refresh_from_db()
    assert (signature.filler_first_name, signature.filler_last_name) == ("", "")
    assert signature.filler_function == ""
