"""The Celery tasks: each email sent once, SMTP failures retried or recorded, lost ones swept."""

import datetime

import kombu.exceptions
import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from signatures import services, tasks
from signatures.models import ModerationEvent, Signature
from tests.factories import SignatureFactory, signature_form_data

pytestmark = pytest.mark.django_db


def _queued_signature(**kwargs):
    return SignatureFactory(confirmation_queued_at=timezone.now(), **kwargs)


def test_send_confirmation_email_sends_once_even_when_run_twice(mailoutbox):
    signature = _queued_signature()
    tasks.send_confirmation_email.delay(signature.pk)
    tasks.send_confirmation_email.delay(signature.pk)
    assert len(mailoutbox) == 1
    signature.refresh_from_db()
    assert signature.confirmation_send_count == 1


def test_send_confirmation_email_skips_a_signature_no_longer_pending(mailoutbox):
    signature = _queued_signature(status=Signature.Status.CONFIRMED)
    tasks.send_confirmation_email.delay(signature.pk)
    tasks.send_confirmation_email.delay(123456789)  # gone: returns quietly
    assert mailoutbox == []


def test_send_confirmation_email_retries_smtp_failures_then_sends(smtp_sink):
    smtp_sink.refuse_next = 2
    signature = _queued_signature()
    tasks.send_confirmation_email.delay(signature.pk)
    assert len(smtp_sink.messages) == 1
    assert smtp_sink.messages[0]["To"] == signature.email
    signature.refresh_from_db()
    assert signature.confirmation_send_count == 1
    assert signature.confirmation_failed_at is None


def test_send_confirmation_email_records_the_final_smtp_failure(smtp_sink):
    smtp_sink.refuse_next = 100
    signature = _queued_signature()
    result = tasks.send_confirmation_email.delay(signature.pk)
    assert result.failed()
    assert "Temporary failure" in str(result.result)
    signature.refresh_from_db()
    assert signature.confirmation_sent_at is None
    assert signature.confirmation_failed_at is not None
    assert "Temporary failure" in signature.confirmation_error
    assert smtp_sink.messages == []


def test_send_confirmation_email_records_a_permanent_refusal_without_retrying(smtp_sink):
    smtp_sink.refuse_next = 100
    smtp_sink.refusal = "550 5.1.1 No such user here"
    signature = SignatureFactory(confirmation_queued_at=timezone.now())
    tasks.send_confirmation_email.delay(signature.pk)
    signature.refresh_from_db()
    assert signature.confirmation_failed_at is not None
    assert "550" in signature.confirmation_error
    assert smtp_sink.refuse_next == 99  # tried once, not retried


def _decision():
    """An approval, its email dispatched as after commit."""
    signature = SignatureFactory(status=Signature.Status.CONFIRMED)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.change_status(signature_id=signature.pk, action="approve")
    return ModerationEvent.objects.get(signature=signature, action="approve")


def test_send_decision_email_sends_once_even_when_run_twice(moderator, mailoutbox):
    signature = SignatureFactory(status="confirmed")
    services.change_status(
        signature_id=signature.pk, action="approve", actor=moderator
    )  # on_commit not run: send by hand
    event = signature.events.get()
    tasks.send_decision_email.delay(event.pk)
    tasks.send_decision_email.delay(event.pk)
    assert len(mailoutbox) == 1


def test_send_decision_email_records_a_permanent_failure_never_swept_again(smtp_sink):
    smtp_sink.refuse_next = 100
    smtp_sink.refusal = "550 5.1.1 No such user here"
    event = _decision()  # eager: the email is tried at once, and refused for good
    event.refresh_from_db()
    assert event.notified_at is None
    assert event.notification_failed_at is not None
    assert "550" in event.notification_error
    assert smtp_sink.refuse_next == 99  # tried once
    with freeze_time(timezone.now() + datetime.timedelta(minutes=30)):
        assert tasks.sweep_unsent_emails() == 0
    assert smtp_sink.refuse_next == 99  # and never again


def test_send_decision_email_records_the_final_transient_failure(smtp_sink):
    smtp_sink.refuse_next = 100
    event = _decision()
    event.refresh_from_db()
    assert event.notification_failed_at is not None
    assert "Temporary failure" in event.notification_error
    assert smtp_sink.messages == []


def test_sweep_unsent_emails_sends_a_lost_decision_email_once(mailoutbox, monkeypatch):
    with monkeypatch.context() as patched:  # the broker lost the task
        patched.setattr(tasks.send_decision_email, "delay", lambda *args: None)
        event = _decision()
    assert mailoutbox == []
    assert tasks.sweep_unsent_emails() == 0  # too recent to be presumed lost
    with freeze_time(timezone.now() + datetime.timedelta(minutes=11)):
        assert tasks.sweep_unsent_emails() == 1
        assert tasks.sweep_unsent_emails() == 0
    assert len(mailoutbox) == 1
    event.refresh_from_db()
    assert event.notified_at is not None


def test_sweep_unsent_emails_sends_the_confirmation_lost_in_a_broker_outage(
    client, declaration, territory, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise kombu.exceptions.OperationalError("[Errno 111] Connection refused")

    with monkeypatch.context() as patched:
        patched.setattr(tasks.send_confirmation_email, "apply_async", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("signatures:sign", args=[declaration.slug]),
                signature_form_data(territory=territory.pk),
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


def test_sweep_unsent_emails_ignores_sent_failed_confirmed_and_expired_signatures():
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    SignatureFactory(confirmation_queued_at=long_ago, confirmation_sent_at=long_ago)
    SignatureFactory(confirmation_queued_at=long_ago, confirmation_failed_at=long_ago)
    SignatureFactory(confirmation_queued_at=long_ago, status="confirmed")
    SignatureFactory(confirmation_queued_at=timezone.now() - datetime.timedelta(days=8))
    assert tasks.sweep_unsent_emails() == 0


def test_publications_of_the_same_second_share_one_counts_refresh(monkeypatch, declaration):
    """The counts' version reads every published signature: a burst queues one run, and a
    change after that run has started queues the next."""
    queued = []
    monkeypatch.setattr(
        tasks.refresh_stats, "apply_async", lambda args, countdown: queued.append(countdown)
    )
    for _ in range(3):
        tasks.queue_stats_run(declaration.pk)
    assert queued == [tasks.STATS_DELAY_SECONDS]
    tasks.refresh_stats(declaration.pk)  # the run starts: later changes need another
    tasks.queue_stats_run(declaration.pk)
    assert len(queued) == 2


def test_a_publication_still_refreshes_the_counts_with_tasks_run_at_once(
    declaration, django_capture_on_commit_callbacks
):
    signature = SignatureFactory(declaration=declaration, status="confirmed")
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(signature_id=signature.pk, action="approve")
    declaration.refresh_from_db()
    assert declaration.signature_count == 1
