"""The per-address record of emails sent, which caps how many an address receives."""

import datetime

from django.conf import settings
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .keys import source_hash


class OutgoingEmailQuerySet(models.QuerySet):
    def claim(self, *, email: str, kind: str, now: datetime.datetime) -> bool:
        """Record an email to `email` if its caps allow one more; False when they do not.

        Caps hold per address whatever the source (territories, resends,
        contests): nobody can make the site mail-bomb a third party. Call
        inside a transaction: on PostgreSQL an advisory lock on the address
        makes concurrent claims for one address wait for each other. Then one
        statement counts the address's last day and inserts only below both
        caps; it starts after the lock, so it sees what the claim before it
        committed. (The signing POST runs this: one statement instead of a count
        and an insert.)
        """
        recipient = source_hash(email)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(recipient[:15], 16)])
        table = connection.ops.quote_name(self.model._meta.db_table)
        moment = connection.ops.adapt_datetimefield_value
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (recipient_hash, kind, queued_at) "  # noqa: S608 - our table
                "SELECT %s, %s, %s FROM (SELECT COUNT(*) FILTER (WHERE queued_at > %s) AS hour, "
                f"COUNT(*) AS day FROM {table} WHERE recipient_hash = %s AND queued_at > %s) "
                "AS counts WHERE counts.hour < %s AND counts.day < %s RETURNING id",
                [
                    *(recipient, kind, moment(now)),
                    moment(now - datetime.timedelta(hours=1)),
                    *(recipient, moment(now - datetime.timedelta(days=1))),
                    *(settings.EMAIL_CAP_PER_HOUR, settings.EMAIL_CAP_PER_DAY),
                ],
            )
            return cursor.fetchone() is not None


class OutgoingEmail(models.Model):
    """One email asked for, to a signatory or contester: what the per-recipient caps count.

    The address is kept only as a keyed hash (source_hash): enough to count,
    nothing to leak. Rows older than a day are no longer needed.
    """

    recipient_hash = models.CharField(_("empreinte du destinataire"), max_length=32)
    kind = models.CharField(_("type d'e-mail"), max_length=20)
    queued_at = models.DateTimeField(_("demandé le"), default=timezone.now, db_index=True)

    objects = OutgoingEmailQuerySet.as_manager()

    class Meta:
        verbose_name = _("e-mail envoyé")
        verbose_name_plural = _("e-mails envoyés")
        indexes = [models.Index(fields=["recipient_hash", "queued_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.queued_at:%Y-%m-%d %H:%M}"
