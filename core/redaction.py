"""Keep secret links out of logs: confirmation and "manage my signature" tokens.

Whoever reads a log (a host's support, a log aggregator) must not be able to
confirm, correct or withdraw somebody's signature. Both Django's loggers (a
404 logs its path) and gunicorn's access log go through `redact`.
"""

import logging
import re

from gunicorn.glogging import Logger

SECRET_PATH = re.compile(r"(/signatures/(?:gerer|confirmer)/)[^/\s\"'?#]+")
REDACTED = r"\1[secret]"


def redact(text: str) -> str:
    return SECRET_PATH.sub(REDACTED, text)


class RedactSecretLinks(logging.Filter):
    """A logging filter: the formatted message with its tokens replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class GunicornLogger(Logger):
    """gunicorn's logger, with the same redaction in every access-log field."""

    def atoms(self, resp, req, environ, request_time):
        values = super().atoms(resp, req, environ, request_time)
        return {
            key: redact(value) if isinstance(value, str) else value
            for key, value in values.items()
        }
