import pytest

from signatures import tasks
from signatures.models import Signature
from tests.factories import SignatureFactory

pytestmark = pytest.mark.django_db


def _queued_signature(**kwargs):
    from django.utils import timezone

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
