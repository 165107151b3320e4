"""The query vocabulary of signatures: live, published, the moderators' queue, the
sources of a burst, the emails to send again."""

import datetime

from django.apps import apps
from django.db import models
from django.db.models import F, Q

from .keys import CONFIRMATION_LINK_AGE, EMAIL_LOST_AFTER, EMAIL_RESWEEP_AFTER


class SignatureQuerySet(models.QuerySet):
    def live(self):
        """Signatures that hold their territory: confirmed or published."""
        return self.filter(status__in=self.model.LIVE_STATUSES)

    def published(self):
        return self.filter(status=self.model.Status.PUBLISHED)

    def pending(self):
        return self.filter(status=self.model.Status.PENDING)

    def confirmed(self):
        """Confirmed by the signatory, awaiting a moderator's decision."""
        return self.filter(status=self.model.Status.CONFIRMED)

    def for_territory(self, declaration, territory):
        return self.filter(declaration=declaration, territory=territory)

    def proof_due(self):
        """Signatures whose flags and verification level were never computed."""
        return self.filter(proof_refreshed_at__isnull=True)

    def pending_for(self, email: str):
        """Pending signatures made with this address, whatever its case."""
        return self.pending().filter(email__iexact=email)

    def awaiting_decision(self):
        """The moderators' queue: confirmed, suspect, under an open contest, with a
        correction to review, or with a deliberation waiting for its review."""
        # The models of moderation.py, which imports this module.
        contest, correction = (apps.get_model("signatures", n) for n in ("Contest", "Correction"))
        open_contests = contest.objects.filter(
            signature=models.OuterRef("pk"), decided_at__isnull=True
        )
        open_corrections = correction.objects.filter(
            signature=models.OuterRef("pk"), decided_at__isnull=True
        )
        return self.annotate(
            is_contested=models.Exists(open_contests),
            has_correction=models.Exists(open_corrections),
        ).filter(
            Q(status__in=[self.model.Status.CONFIRMED, self.model.Status.SUSPECT])
            | Q(is_contested=True)
            | Q(has_correction=True)
            | (Q(deliberation_review=self.model.DeliberationReview.PENDING) & ~Q(deliberation=""))
        )

    # Where submissions come from, for the moderators' trending view and bulk invalidation.
    SOURCE_FIELDS = ("ip_hash", "email_domain", "user_agent")

    def from_source(self, declaration, field: str, value: str, start, end):
        """Signatures of a declaration from one source (see SOURCE_FIELDS) in a time window."""
        if field not in self.SOURCE_FIELDS:
            raise ValueError(field)
        return self.filter(
            declaration=declaration,
            submitted_at__gte=start,
            submitted_at__lte=end,
            **{field: value},
        )

    def trending_sources(self, declaration, field: str, since, *, at_least: int = 3):
        """[(value, signatures, territories)] of the sources with many signatures since `since`."""
        if field not in self.SOURCE_FIELDS:
            raise ValueError(field)
        return list(
            self.filter(declaration=declaration, submitted_at__gte=since)
            .exclude(**{field: ""})
            .values_list(field)
            .annotate(
                signatures=models.Count("pk"),
                territories=models.Count("territory", distinct=True),
            )
            .filter(signatures__gte=at_least)
            .order_by("-signatures", field)[:50]
        )

    def confirmation_unsent(self, now: datetime.datetime):
        """Pending signatures whose last requested link has not left yet, nor failed for good."""
        return (
            self.pending()
            .filter(confirmation_queued_at__gt=now - CONFIRMATION_LINK_AGE)
            .filter(confirmation_failed_at__isnull=True)
            .filter(
                Q(confirmation_sent_at__isnull=True)
                | Q(confirmation_sent_at__lt=F("confirmation_queued_at"))
            )
        )

    def confirmation_lost(self, now: datetime.datetime):
        """Unsent links presumed lost (see EMAIL_LOST_AFTER): not waiting for a retry,
        not re-queued a moment ago."""
        return (
            self.confirmation_unsent(now)
            .filter(confirmation_queued_at__lt=now - EMAIL_LOST_AFTER)
            .filter(
                Q(confirmation_retry_at__isnull=True) | Q(confirmation_retry_at__lte=now),
                Q(confirmation_swept_at__isnull=True)
                | Q(confirmation_swept_at__lt=now - EMAIL_RESWEEP_AFTER),
            )
        )
