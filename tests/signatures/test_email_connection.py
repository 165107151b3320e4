"""Emails reuse one SMTP connection per worker process (a real SMTP server here)."""

import pytest

from core import mail
from signatures import emails
from tests.factories import SignatureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_connection():
    mail._smtp.drop()
    yield
    mail._smtp.drop()


def test_consecutive_emails_share_one_connection(smtp_sink):
    for signature in SignatureFactory.create_batch(3):
        emails.send_confirmation(signature)
    assert len(smtp_sink.messages) == 3
    assert len(smtp_sink.sessions) == 1


def test_a_connection_the_server_dropped_is_opened_again(smtp_sink):
    first, second = SignatureFactory.create_batch(2)
    emails.send_confirmation(first)
    mail._smtp.connection.connection.close()  # as a server closing an idle connection
    emails.send_confirmation(second)
    assert [m["To"] for m in smtp_sink.messages] == [first.email, second.email]
    assert len(smtp_sink.sessions) == 2


def test_another_server_in_the_settings_gets_its_own_connection(smtp_sink, settings):
    emails.send_confirmation(SignatureFactory())
    settings.EMAIL_HOST_USER = "autre"  # as if the configuration changed
    emails.send_confirmation(SignatureFactory())
    assert len(smtp_sink.sessions) == 2
