import datetime

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from signatures import services, tasks
from signatures.models import ModerationEvent, Signature
from tests.factories import SignatureFactory

pytestmark = pytest.mark.django_db


def _queued_signature(**kwargs):
    return SignatureFactory(confirmation_queued_at=timezone.now(), **kwargs)


def test_confirmation_email_is_sent_once_even_when_the_task_runs_twice(mailoutbox):
    signature = _queued_signature()
    tasks.send_confirmation_email.delay(signature.pk)
    tasks.send_confirmation_email.delay(signature.pk)
    assert len(mailoutbox) == 1
    signature.refresh_from_db()
    assert signature.confirmation_send_count == 1


def test_confirmation_email_is_not_sent_for_a_signature_no_longer_pending(mailoutbox):
    signature = _queued_signature(status=Signature.Status.CONFIRMED)
    tasks.send_confirmation_email.delay(signature.pk)
    tasks.send_confirmation_email.delay(123456789)  # gone: returns quietly
    assert mailoutbox == []


def test_smtp_failures_are_retried_then_the_email_goes_out(smtp_sink):
    smtp_sink.refuse_next = 2
    signature = _queued_signature()
    tasks.send_confirmation_email.delay(signature.pk)
    assert len(smtp_sink.messages) == 1
    assert smtp_sink.messages[0]["To"] == signature.email
    signature.refresh_from_db()
    assert signature.confirmation_send_count == 1
    assert signature.confirmation_failed_at is None


def test_final_smtp_failure_is_recorded_on_the_signature(smtp_sink):
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


def _decision():
    """An approval, its email dispatched as after commit."""
    signature = SignatureFactory(status=Signature.Status.CONFIRMED)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.change_status(signature_id=signature.pk, action="approve")
    return ModerationEvent.objects.get(signature=signature, action="approve")


def test_permanent_decision_email_failure_is_recorded_and_not_swept_again(smtp_sink):
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


def test_final_transient_decision_email_failure_is_recorded(smtp_sink):
    smtp_sink.refuse_next = 100
    event = _decision()
    event.refresh_from_db()
    assert event.notification_failed_at is not None
    assert "Temporary failure" in event.notification_error
    assert smtp_sink.messages == []


def test_lost_decision_email_is_swept_and_sent_once(mailoutbox, monkeypatch):
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


def test_failed_decision_email_is_shown_to_moderators(admin_client, smtp_sink):
    smtp_sink.refuse_next = 100
    smtp_sink.refusal = "550 5.1.1 No such user here"
    event = _decision()
    url = reverse("admin:signatures_moderationevent_changelist")
    html = admin_client.get(url, {"notification": "failed"}).content.decode()
    assert f"/admin/signatures/moderationevent/{event.pk}/change/" in html
    detail = admin_client.get(
        reverse("admin:signatures_signature_change", args=[event.signature_id])
    ).content.decode()
    assert "No such user here" in detail
