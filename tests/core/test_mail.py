"""core.mail's rules for a failed send: worth another try or not, and when."""

import smtplib

import pytest

from core import mail


@pytest.mark.parametrize(
    ("error", "is_transient"),
    [
        (smtplib.SMTPResponseException(451, b"Try again later"), True),
        (smtplib.SMTPResponseException(550, b"No such user"), False),
        (smtplib.SMTPRecipientsRefused({"a@x.fr": (450, b"Busy"), "b@x.fr": (421, b"")}), True),
        (smtplib.SMTPRecipientsRefused({"a@x.fr": (450, b"Busy"), "b@x.fr": (550, b"")}), False),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (smtplib.SMTPSenderRefused(553, b"Sender address rejected", "site@x.fr"), False),
    ],
)
def test_is_transient_tells_later_from_never(error, is_transient):
    assert isinstance(error, mail.TRANSIENT_ERRORS)
    assert mail.is_transient(error) is is_transient


def test_backoff_doubles_up_to_ten_minutes():
    assert [mail.backoff(retries) for retries in range(8)] == [10, 20, 40, 80, 160, 320, 600, 600]
