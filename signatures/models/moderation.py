"""What moderation records about a signature: flags, the audit trail, contests,
corrections, and the queue moderators work from."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .keys import CONFIRMATION_LINK_AGE, EMAIL_LOST_AFTER, EMAIL_RESWEEP_AFTER, new_public_id
from .signature import Signature


class Flag(models.Model):
    """A hint for moderators, computed at submission and confirmation; never blocks."""

    class Code(models.TextChoices):
        WEBMAIL = "webmail", _("Messagerie grand public")
        UNLISTED_TERRITORY = "unlisted", _("Territoire hors référentiel")
        DOMAIN_BURST = "domain_burst", _("Même domaine e-mail, plusieurs territoires")
        IP_BURST = "ip_burst", _("Même adresse IP, plusieurs territoires")
        TOO_FAST = "too_fast", _("Formulaire rempli trop vite")
        MARKUP = "markup", _("Lien ou balise dans le texte")
        SUSPECT = "suspect", _("Envoi suspect, mis de côté sans e-mail")
        CONTESTED = "contested", _("Signature contestée")
        OTHER_TERRITORY_DOMAIN = "other_domain", _("Domaine e-mail d'un autre territoire")
        PROCONNECT_MISMATCH = "pc_mismatch", _("Organisation ProConnect ≠ territoire")
        FUNCTION_MISMATCH = "function", _("Fonction inhabituelle pour ce type de territoire")

    signature = models.ForeignKey(
        Signature, on_delete=models.CASCADE, related_name="flags", verbose_name=_("signature")
    )
    code = models.CharField(_("signal"), max_length=20, choices=Code)
    detail = models.CharField(_("détail"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("signal")
        verbose_name_plural = _("signaux")
        constraints = [
            models.UniqueConstraint(fields=["signature", "code"], name="one_flag_per_code")
        ]

    def __str__(self) -> str:
        return self.get_code_display()

    @classmethod
    def set_on(cls, signature: "Signature", code: str, detail: str = "") -> None:
        """Set a flag the workflows decide (suspect, contested), keeping the latest detail."""
        cls.objects.update_or_create(
            signature=signature, code=code, defaults={"detail": str(detail)[:300]}
        )


class ModerationEventQuerySet(models.QuerySet):
    def notification_unsent(self, now: datetime.datetime):
        """Decisions whose email to the signatory has not left and may still be sent.

        Left out: anonymised signatories (no address), emails whose failure was
        recorded as permanent, and signatures whose confirmation email already
        failed permanently (the address does not take mail).
        """
        return (
            self.filter(
                action__in=ModerationEvent.NOTIFIED_ACTIONS,
                notified_at__isnull=True,
                notification_failed_at__isnull=True,
                created_at__gt=now - CONFIRMATION_LINK_AGE,
            )
            .exclude(signature__email="")
            .exclude(signature__confirmation_failed_at__isnull=False)
        )

    def notification_lost(self, now: datetime.datetime):
        """Unsent decision emails presumed lost, as Signature's confirmation_lost."""
        return self.notification_unsent(now).filter(
            Q(notification_retry_at__isnull=True) | Q(notification_retry_at__lte=now),
            Q(notification_swept_at__isnull=True)
            | Q(notification_swept_at__lt=now - EMAIL_RESWEEP_AFTER),
            created_at__lt=now - EMAIL_LOST_AFTER,
        )


class ModerationEvent(models.Model):
    """The audit trail: one row per decision or status change, never edited."""

    class Action(models.TextChoices):
        CONFIRM = "confirm", _("Confirmation par le signataire")
        APPROVE = "approve", _("Publication")
        REJECT = "reject", _("Refus")
        WITHDRAW = "withdraw", _("Retrait à la demande du signataire")
        RESEND = "resend", _("Renvoi du lien de confirmation")
        ANONYMISE = "anonymise", _("Anonymisation")
        CORRECT = "correct", _("Correction par le signataire")
        CORRECTION_APPROVED = "correction_ok", _("Correction publiée")
        CORRECTION_REJECTED = "correction_no", _("Correction refusée")
        NEW_MANAGE_LINK = "manage_link", _("Nouveau lien de gestion")
        ERASE = "erase", _("Effacement (durée de conservation écoulée)")
        RELEASE = "release", _("Signature suspecte libérée")
        CONTEST = "contest", _("Contestation reçue")
        CONTEST_DECIDED = "contest_decided", _("Contestation tranchée")
        DELIBERATION_ACCEPTED = "deliberation_ok", _("Délibération acceptée")
        DELIBERATION_REFUSED = "deliberation_no", _("Délibération refusée")

    class Reason(models.TextChoices):
        NOT_REPRESENTATIVE = "not_representative", _("La personne ne représente pas ce territoire")
        WRONG_TERRITORY = "wrong_territory", _("Territoire mal identifié ou inexistant")
        NOT_ELIGIBLE = (
            "not_eligible",
            _("Structure non éligible (pas une collectivité territoriale)"),
        )
        DUPLICATE = "duplicate", _("Doublon d'une autre signature")
        ABUSIVE = "abusive", _("Signature fantaisiste ou abusive")
        INAPPROPRIATE_COMMENT = "comment", _("Commentaire inapproprié")
        OTHER = "other", _("Autre motif")

    # Decisions the signatory hears about by email.
    NOTIFIED_ACTIONS = (
        Action.APPROVE,
        Action.REJECT,
        Action.WITHDRAW,
        Action.DELIBERATION_REFUSED,
    )

    signature = models.ForeignKey(
        Signature, on_delete=models.CASCADE, related_name="events", verbose_name=_("signature")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("par"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action)
    # A signature's refusal (Reason), or a deliberation's (Signature.DeliberationRefusal).
    reason = models.CharField(
        _("motif"),
        max_length=30,
        choices=[*Reason.choices, *Signature.DeliberationRefusal.choices],
        blank=True,
    )
    note = models.TextField(_("précisions"), blank=True, max_length=1000)
    from_status = models.CharField(_("statut avant"), max_length=10, choices=Signature.Status)
    to_status = models.CharField(_("statut après"), max_length=10, choices=Signature.Status)
    created_at = models.DateTimeField(_("le"), default=timezone.now, db_index=True)
    # The signatory's email about this decision: set once sent, so a retry sends once.
    notified_at = models.DateTimeField(_("signataire prévenu le"), null=True, blank=True)
    # Set when that email failed for good: the sweeper leaves it, moderators see it.
    notification_failed_at = models.DateTimeField(
        _("échec de l'e-mail au signataire le"), null=True, blank=True
    )
    notification_error = models.CharField(_("erreur d'envoi"), max_length=300, blank=True)
    notification_retry_at = models.DateTimeField(
        _("nouvel essai de l'e-mail le"), null=True, blank=True, editable=False
    )
    notification_swept_at = models.DateTimeField(
        _("e-mail relancé le"), null=True, blank=True, editable=False
    )

    objects = ModerationEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("décision de modération")
        verbose_name_plural = _("journal de modération")

    def __str__(self) -> str:
        return f"{self.get_action_display()} — {self.signature_id}"


class Contest(models.Model):
    """Someone says a published or confirmed signature does not come from their territory.

    Moderators see the contested signature first in their queue; the contester
    hears by email how it was decided (see services.decide_contests).
    """

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("Contestation fondée : signature retirée")
        DISMISSED = "dismissed", _("Contestation écartée : signature maintenue")

    public_id = models.CharField(
        _("référence"), max_length=22, unique=True, default=new_public_id, editable=False
    )
    signature = models.ForeignKey(
        Signature, on_delete=models.CASCADE, related_name="contests", verbose_name=_("signature")
    )
    first_name = models.CharField(_("prénom"), max_length=100)
    last_name = models.CharField(_("nom"), max_length=100)
    function = models.CharField(_("fonction"), max_length=150)
    email = models.EmailField(_("adresse e-mail officielle"), max_length=254)
    message = models.TextField(_("message"), max_length=1000, blank=True)
    submitted_at = models.DateTimeField(_("reçue le"), default=timezone.now)
    ip_hash = models.CharField(
        _("empreinte de l'adresse IP"), max_length=32, blank=True, editable=False
    )
    outcome = models.CharField(_("décision"), max_length=10, choices=Outcome, blank=True)
    # Guards of the two emails, as `notified_at` on moderation events: each leaves once.
    received_notice_sent_at = models.DateTimeField(
        _("modérateurs prévenus le"), null=True, blank=True
    )
    decided_at = models.DateTimeField(_("tranchée le"), null=True, blank=True)
    answered_at = models.DateTimeField(_("réponse envoyée le"), null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("contestation")
        verbose_name_plural = _("contestations")

    def __str__(self) -> str:
        return f"{self.signature.territory} — {self.first_name} {self.last_name}"


class Correction(models.Model):
    """A signatory's correction of a published signature, shown publicly once approved.

    A pending or confirmed signature is corrected in place (nothing public yet);
    a published one keeps its public text until a moderator approves this.
    """

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("publiée")
        REJECTED = "rejected", _("refusée")

    signature = models.ForeignKey(
        Signature,
        on_delete=models.CASCADE,
        related_name="corrections",
        verbose_name=_("signature"),
    )
    first_name = models.CharField(_("prénom"), max_length=100)
    last_name = models.CharField(_("nom"), max_length=100)
    function = models.CharField(_("fonction"), max_length=20, choices=Signature.Function)
    function_other = models.CharField(_("autre fonction"), max_length=150, blank=True)
    comment = models.TextField(_("commentaire public"), max_length=500, blank=True)
    submitted_at = models.DateTimeField(_("proposée le"), default=timezone.now)
    outcome = models.CharField(_("décision"), max_length=10, choices=Outcome, blank=True)
    decided_at = models.DateTimeField(_("tranchée le"), null=True, blank=True)

    FIELDS = ("first_name", "last_name", "function", "function_other", "comment")

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")
        constraints = [
            # One correction awaiting a decision per signature: a new one replaces it.
            models.UniqueConstraint(
                fields=["signature"],
                condition=Q(decided_at__isnull=True),
                name="one_open_correction_per_signature",
            )
        ]

    def __str__(self) -> str:
        return f"{self.signature} ({self.submitted_at:%Y-%m-%d})"

    def changes(self) -> list[tuple[str, str, str]]:
        """(field label, current public value, proposed value) for each field that differs."""
        signature = self.signature
        return [
            (
                str(Signature._meta.get_field(name).verbose_name),
                str(getattr(signature, name)),
                str(getattr(self, name)),
            )
            for name in self.FIELDS
            if getattr(signature, name) != getattr(self, name)
        ]


class ModerationQueue(Signature):
    """The same signatures, as the moderators' work list (see admin)."""

    class Meta:
        proxy = True
        verbose_name = _("signature à modérer")
        # "8 signatures à modérer" under the list, as the admin index's link says.
        verbose_name_plural = _("signatures à modérer")
