"""The status machine, the audit trail and the decision emails."""

import pytest

from declarations.models import Declaration
from signatures import services, stats, tasks
from signatures.models import ModerationEvent, Signature
from tests.factories import DeclarationFactory, SignatureFactory, UserFactory

pytestmark = pytest.mark.django_db

Action = ModerationEvent.Action


@pytest.fixture
def moderator():
    return UserFactory(username="moderatrice")


def _decide(signature, action, moderator, **kwargs):
    return services.change_status(
        signature_id=signature.pk, action=action, actor=moderator, **kwargs
    )


def test_approve_publishes_records_and_emails(
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


def test_reject_records_the_reason_and_tells_the_signatory(
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


def test_rejecting_a_published_signature_updates_the_count(
    moderator, django_capture_on_commit_callbacks
):
    declaration = DeclarationFactory(signature_count=1)
    signature = SignatureFactory(declaration=declaration, status="published")
    with django_capture_on_commit_callbacks(execute=True):
        _decide(signature, Action.REJECT, moderator, reason="abusive")
    declaration.refresh_from_db()
    assert declaration.signature_count == 0


def test_withdraw_sends_no_email(moderator, mailoutbox, django_capture_on_commit_callbacks):
    signature = SignatureFactory(status="published")
    with django_capture_on_commit_callbacks(execute=True):
        _decide(signature, Action.WITHDRAW, moderator)
    signature.refresh_from_db()
    assert signature.status == Signature.Status.WITHDRAWN
    assert signature.withdrawn_at is not None
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("pending", Action.APPROVE),
        ("published", Action.APPROVE),
        ("withdrawn", Action.REJECT),
        ("confirmed", Action.CONFIRM),
    ],
)
def test_actions_are_refused_from_the_wrong_status(moderator, status, action):
    signature = SignatureFactory(status=status)
    with pytest.raises(services.InvalidTransition):
        _decide(signature, action, moderator)
    assert signature.events.count() == 0


def test_publishing_a_second_signature_for_a_territory_is_refused(moderator):
    published = SignatureFactory(status="published")
    rejected = SignatureFactory(
        declaration=published.declaration, territory=published.territory, status="rejected"
    )
    with pytest.raises(services.TerritoryAlreadySigned):
        _decide(rejected, Action.APPROVE, moderator)
    rejected.refresh_from_db()
    assert rejected.status == Signature.Status.REJECTED
    assert rejected.events.count() == 0


def test_confirmation_is_in_the_audit_trail_without_an_actor():
    signature = SignatureFactory(declaration=DeclarationFactory(moderation="post"))
    services.confirm_signature(signature_id=signature.pk)
    event = signature.events.get()
    assert (event.actor, event.action, event.to_status) == (None, Action.CONFIRM, "published")


def test_decision_email_is_sent_once_even_if_the_task_runs_twice(moderator, mailoutbox):
    signature = SignatureFactory(status="confirmed")
    _decide(signature, Action.APPROVE, moderator)  # on_commit not run: send by hand
    event = signature.events.get()
    tasks.send_decision_email.delay(event.pk)
    tasks.send_decision_email.delay(event.pk)
    assert len(mailoutbox) == 1


def test_resend_queues_a_new_link_and_records_it(
    moderator, mailoutbox, django_capture_on_commit_callbacks
):
    signature = SignatureFactory(status="pending")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resend_link_for_moderator(signature_id=signature.pk, actor=moderator)
    assert len(mailoutbox) == 1
    assert "Confirmez la signature" in mailoutbox[0].subject
    assert signature.events.get().action == Action.RESEND
    confirmed = SignatureFactory(status="confirmed")
    assert not services.resend_link_for_moderator(signature_id=confirmed.pk, actor=moderator)


def test_anonymise_erases_personal_data_and_keeps_the_count(
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


def test_anonymising_a_pending_signature_withdraws_it(moderator):
    signature = SignatureFactory(status="pending")
    services.anonymise_signature(signature_id=signature.pk, actor=moderator)
    signature.refresh_from_db()
    assert signature.status == Signature.Status.WITHDRAWN
    assert [e.action for e in signature.events.order_by("pk")] == [
        Action.WITHDRAW,
        Action.ANONYMISE,
    ]
