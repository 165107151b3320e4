"""A territory's signature of a declaration, from submission to publication."""

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage
from django.db import connection, models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from declarations.models import Declaration, Network
from territories.models import Territory

from .text import email_domain

CONFIRMATION_SALT = "signatures.confirmation"
MANAGE_SALT = "signatures.manage"
CONFIRMATION_VALID_DAYS = 7  # a week to find the email and click
CONFIRMATION_MAX_AGE = CONFIRMATION_VALID_DAYS * 24 * 3600  # seconds, for signing.loads
# A second identical submission or resend within this delay sends no second email.
RESEND_COOLDOWN = datetime.timedelta(minutes=2)
# Older than this and still unsent, a queued email is presumed lost (broker down
# when it was queued, worker killed mid-send…): the sweeper, every 15 s, queues it
# again. A worker sends a confirmation in well under a second; an email waiting for
# its next try after an SMTP error (`*_retry_at`) is not lost, and one being sent
# right now is skipped (its row is locked).
EMAIL_LOST_AFTER = datetime.timedelta(seconds=30)
# A re-queued email is not queued again before this: a dead worker would otherwise
# find a pile of duplicate messages (harmless, each sends nothing) when it restarts.
EMAIL_RESWEEP_AFTER = datetime.timedelta(seconds=60)


def new_public_id() -> str:
    """An opaque reference for URLs, anchors, the API and emails: 16 random URL-safe characters.

    Row ids are sequential and would tell how many submissions exist.
    """
    return secrets.token_urlsafe(12)


def private_storage() -> FileSystemStorage:
    """Files no URL serves: only views that check who asks read them (settings.PRIVATE_ROOT)."""
    return FileSystemStorage(location=settings.PRIVATE_ROOT)


def deliberation_path(signature, filename: str) -> str:
    """A random name: the signatory's file name may say who they are, and must not be guessed."""
    return f"deliberations/{secrets.token_urlsafe(18)}.pdf"


def new_manage_secret() -> str:
    return secrets.token_urlsafe(16)


def source_hash(value: str) -> str:
    """A keyed hash of an IP address or email address: comparable, not reversible.

    Lets moderators group signatures by source, and caps count emails per
    recipient, without keeping the address itself longer than needed.
    """
    if not value:
        return ""
    key = hashlib.sha256(f"source-hash:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


# Emails asked for longer ago than the link's validity are not sent any more.
CONFIRMATION_LINK_AGE = datetime.timedelta(seconds=CONFIRMATION_MAX_AGE)


# (civility, function) → the function in that gender, and the formal way to name it.
GENDERED_FUNCTIONS = {
    ("madame", "president"): _("Présidente"),
    ("monsieur", "president"): _("Président"),
    ("madame", "vice_president"): _("Vice-présidente"),
    ("monsieur", "vice_president"): _("Vice-président"),
    ("madame", "conseiller"): _("Conseillère"),
    ("monsieur", "conseiller"): _("Conseiller"),
}
FORMAL_TITLES = {
    ("madame", "maire"): _("Madame la Maire"),
    ("monsieur", "maire"): _("Monsieur le Maire"),
    ("madame", "president"): _("Madame la Présidente"),
    ("monsieur", "president"): _("Monsieur le Président"),
    ("madame", "vice_president"): _("Madame la Vice-présidente"),
    ("monsieur", "vice_president"): _("Monsieur le Vice-président"),
}


class SignatureQuerySet(models.QuerySet):
    def live(self):
        """Signatures that hold their territory: confirmed or published."""
        return self.filter(status__in=Signature.LIVE_STATUSES)

    def published(self):
        return self.filter(status=Signature.Status.PUBLISHED)

    def pending(self):
        return self.filter(status=Signature.Status.PENDING)

    def confirmed(self):
        """Confirmed by the signatory, awaiting a moderator's decision."""
        return self.filter(status=Signature.Status.CONFIRMED)

    def for_territory(self, declaration, territory):
        return self.filter(declaration=declaration, territory=territory)

    def proof_due(self):
        """Signatures whose flags and verification level were never computed."""
        return self.filter(proof_refreshed_at__isnull=True)

    def pending_for(self, email: str):
        """Pending signatures made with this address, whatever its case."""
        return self.pending().filter(email__iexact=email)

    def awaiting_decision(self):
        """The moderators' queue: confirmed, suspect, under an open contest, or with a
        correction to review."""
        open_contests = Contest.objects.filter(
            signature=models.OuterRef("pk"), decided_at__isnull=True
        )
        open_corrections = Correction.objects.filter(
            signature=models.OuterRef("pk"), decided_at__isnull=True
        )
        return self.annotate(
            is_contested=models.Exists(open_contests),
            has_correction=models.Exists(open_corrections),
        ).filter(
            Q(status__in=[Signature.Status.CONFIRMED, Signature.Status.SUSPECT])
            | Q(is_contested=True)
            | Q(has_correction=True)
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


class Signature(models.Model):
    class Status(models.TextChoices):
        # Stored silently (over the rate limit, honeypot, filled by a robot): no email,
        # never public, never counted, never holding a territory, until a moderator looks.
        SUSPECT = "suspect", _("suspecte, à examiner")
        PENDING = "pending", _("en attente de confirmation")
        CONFIRMED = "confirmed", _("confirmée, à modérer")
        PUBLISHED = "published", _("publiée")
        REJECTED = "rejected", _("refusée")
        WITHDRAWN = "withdrawn", _("retirée")

    class Function(models.TextChoices):
        PRESIDENT = "president", _("Président·e")
        MAIRE = "maire", _("Maire")
        VICE_PRESIDENT = "vice_president", _("Vice-président·e")
        CONSEILLER = "conseiller", _("Conseiller·e")
        OTHER = "autre", _("Autre fonction")

    class Civility(models.TextChoices):
        MADAME = "madame", _("Madame")
        MONSIEUR = "monsieur", _("Monsieur")

    class Verification(models.TextChoices):
        """How strongly the signature is tied to its territory, strongest first."""

        PROCONNECT = "proconnect", _("ProConnect")
        DELIBERATION = "deliberation", _("délibération")
        OFFICIAL_DOMAIN = "domain", _("domaine officiel")
        EMAIL = "email", _("e-mail")

    LIVE_STATUSES = (Status.CONFIRMED, Status.PUBLISHED)

    public_id = models.CharField(
        _("référence"), max_length=22, unique=True, default=new_public_id, editable=False
    )
    declaration = models.ForeignKey(
        Declaration,
        on_delete=models.PROTECT,
        related_name="signatures",
        verbose_name=_("déclaration"),
    )
    territory = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        related_name="signatures",
        verbose_name=_("territoire"),
    )
    first_name = models.CharField(_("prénom"), max_length=100)
    last_name = models.CharField(_("nom"), max_length=100)
    # Normalised "first last" for the public, accent-insensitive search.
    signatory_search = models.TextField(_("nom pour la recherche"), blank=True, editable=False)
    civility = models.CharField(_("civilité"), max_length=10, choices=Civility, blank=True)
    function = models.CharField(_("fonction"), max_length=20, choices=Function)
    function_other = models.CharField(_("autre fonction"), max_length=150, blank=True)
    email = models.EmailField(_("adresse e-mail"), max_length=254)
    # The address's domain, lower-case: flags and the trending view group by it.
    email_domain = models.CharField(
        _("domaine e-mail"), max_length=254, blank=True, db_index=True, editable=False
    )
    phone = models.CharField(_("téléphone"), max_length=25, blank=True)
    networks = models.ManyToManyField(
        Network, blank=True, related_name="signatures", verbose_name=_("réseaux")
    )
    comment = models.TextField(_("commentaire public"), max_length=500, blank=True)
    consents_to_publication = models.BooleanField(_("accepte la publication"), default=False)
    consents_to_news = models.BooleanField(_("accepte de recevoir des nouvelles"), default=False)
    # Signing on behalf of the executive: the public signatory above is the executive;
    # the person who filled in the form (and owns `email`) stays private.
    signs_on_behalf = models.BooleanField(_("au nom de l'exécutif"), default=False)
    filler_first_name = models.CharField(
        _("prénom de la personne qui signe"), max_length=100, blank=True
    )
    filler_last_name = models.CharField(
        _("nom de la personne qui signe"), max_length=100, blank=True
    )
    filler_function = models.CharField(
        _("fonction de la personne qui signe"), max_length=150, blank=True
    )
    declares_authorised = models.BooleanField(
        _("se déclare habilité·e à engager le territoire"), default=False
    )
    # The strongest proof that applies (see Signature.Verification), kept up to date by
    # services.refresh_verification; the list, the API and the counts filter on it.
    verification = models.CharField(
        _("niveau de vérification"),
        max_length=12,
        choices=Verification,
        default=Verification.EMAIL,
        db_index=True,
    )
    # When the flags and the verification level were last computed (flags.refresh_proofs).
    # Empty on a new signature until the worker's next run, a few seconds after signing
    # (tasks.refresh_due_proofs): the partial index below finds those.
    proof_refreshed_at = models.DateTimeField(
        _("signaux calculés le"), null=True, blank=True, editable=False
    )
    # A council deliberation or mandate (PDF), stored outside any public URL; shown to
    # moderators, and linked publicly only once a moderator marks it public.
    deliberation = models.FileField(
        _("délibération ou mandat (PDF)"),
        upload_to=deliberation_path,
        storage=private_storage,
        blank=True,
        max_length=200,
    )
    deliberation_uploaded_at = models.DateTimeField(
        _("délibération jointe le"), null=True, blank=True
    )
    deliberation_is_public = models.BooleanField(_("délibération publique"), default=False)
    # The organisation ProConnect vouched for, when the signatory signed in with it.
    proconnect_siret = models.CharField(_("SIRET ProConnect"), max_length=14, blank=True)
    proconnect_verified_at = models.DateTimeField(
        _("identifié·e par ProConnect le"), null=True, blank=True
    )
    # Which wording of the publication consent was accepted, and when (RGPD art. 7).
    consent_version = models.CharField(_("version du consentement"), max_length=20, blank=True)
    consented_at = models.DateTimeField(_("consentement donné le"), null=True, blank=True)
    # Part of the key of the "manage my signature" link: replacing it revokes the link.
    manage_secret = models.CharField(
        _("clé du lien de gestion"), max_length=32, default=new_manage_secret, editable=False
    )

    status = models.CharField(
        _("statut"), max_length=10, choices=Status, default=Status.PENDING, db_index=True
    )
    submitted_at = models.DateTimeField(_("soumise le"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmée le"), null=True, blank=True)
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("refusée le"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("retirée le"), null=True, blank=True)

    # The confirmation email's life: what a sweeper needs to recover a lost message.
    confirmation_queued_at = models.DateTimeField(
        _("lien de confirmation demandé le"), null=True, blank=True, editable=False
    )
    confirmation_sent_at = models.DateTimeField(
        _("lien de confirmation envoyé le"), null=True, blank=True, editable=False
    )
    confirmation_send_count = models.PositiveSmallIntegerField(
        _("liens de confirmation envoyés"), default=0, editable=False
    )
    confirmation_failed_at = models.DateTimeField(
        _("échec du lien de confirmation le"), null=True, blank=True, editable=False
    )
    confirmation_error = models.CharField(
        _("erreur d'envoi du lien de confirmation"), max_length=300, blank=True, editable=False
    )
    # After an SMTP error, when the task will try again: the sweeper leaves it until then.
    confirmation_retry_at = models.DateTimeField(
        _("nouvel essai du lien de confirmation le"), null=True, blank=True, editable=False
    )
    # When the sweeper last queued it again, presumed lost.
    confirmation_swept_at = models.DateTimeField(
        _("lien de confirmation relancé le"), null=True, blank=True, editable=False
    )

    submitted_ip = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    ip_hash = models.CharField(
        _("empreinte de l'adresse IP"), max_length=32, blank=True, db_index=True, editable=False
    )
    user_agent = models.CharField(_("navigateur (user agent)"), max_length=300, blank=True)
    fill_seconds = models.PositiveIntegerField(
        _("durée de saisie (s)"), null=True, blank=True, help_text=_("Inconnue si vide.")
    )
    anonymised_at = models.DateTimeField(_("anonymisée le"), null=True, blank=True)
    # When a signatory's correction was made public: the counts' version (and so the
    # list's and the API's ETags) changes with it.
    corrected_at = models.DateTimeField(_("corrigée le"), null=True, blank=True)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        constraints = [
            # The rule the whole product rests on: one live signature per territory.
            # Pending rows do not count, so an unconfirmed form cannot squat a territory.
            models.UniqueConstraint(
                fields=["declaration", "territory"],
                condition=Q(status__in=["confirmed", "published"]),
                name="one_live_signature_per_territory",
            ),
            # Submitting the same form twice updates the pending row instead of adding one.
            models.UniqueConstraint(
                "declaration",
                "territory",
                Lower("email"),
                condition=Q(status="pending"),
                name="one_pending_signature_per_email_and_territory",
            ),
            models.CheckConstraint(
                condition=Q(consents_to_publication=True), name="signature_consents_to_publication"
            ),
        ]
        indexes = [
            models.Index(fields=["declaration", "status", "-published_at"]),
            models.Index(
                fields=["id"],
                condition=Q(proof_refreshed_at__isnull=True),
                name="signature_proof_due_idx",
            ),
        ]
        permissions = [
            ("moderate_signature", _("Peut modérer les signatures")),
            ("export_signature", _("Peut exporter les signatures")),
        ]

    def __str__(self) -> str:
        return f"{self.territory} — {self.first_name} {self.last_name}"

    def save(self, *args, **kwargs):
        # Derived columns the flags and the trending view group by. The hash stays
        # when the IP is erased (retention), so sources can still be compared.
        self.email_domain = email_domain(self.email)
        if self.submitted_ip:
            self.ip_hash = source_hash(self.submitted_ip)
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        if self.anonymised_at:
            return str(_("Signataire anonymisé·e"))
        return f"{self.first_name} {self.last_name}"

    @property
    def function_label(self) -> str:
        """The function as shown: in the civility's gender when it is known."""
        if self.function == self.Function.OTHER and self.function_other:
            return self.function_other
        gendered = GENDERED_FUNCTIONS.get((self.civility, self.function))
        return str(gendered) if gendered else self.get_function_display()

    @property
    def verification_url(self) -> str:
        """The absolute address of the signature's public verification page."""
        path = reverse("public:verify", kwargs={"public_id": self.public_id})
        return settings.SITE_URL + path

    @property
    def public_signatory(self) -> str:
        """How the public list names the signatory: "Madame la Maire, Camille Durand"."""
        title = FORMAL_TITLES.get((self.civility, self.function))
        if title and not self.anonymised_at:
            return f"{title}, {self.full_name}"
        return f"{self.full_name}, {self.function_label}"

    @property
    def addressee_name(self) -> str:
        """Whom emails greet: the person who filled in the form (not the executive they
        signed for)."""
        if self.signs_on_behalf and self.filler_last_name:
            return f"{self.filler_first_name} {self.filler_last_name}"
        return self.full_name

    @property
    def network_names(self) -> str:
        """The networks' short names, comma-separated (prefetch `networks` for lists)."""
        return ", ".join(network.short_name for network in self.networks.all())

    @property
    def confirmation_sent_after_queued(self) -> bool:
        """The last requested confirmation email is out."""
        sent, queued = self.confirmation_sent_at, self.confirmation_queued_at
        return sent is not None and (queued is None or sent >= queued)

    def confirmation_recently_queued(self, now: datetime.datetime) -> bool:
        return bool(
            self.confirmation_queued_at and now - self.confirmation_queued_at < RESEND_COOLDOWN
        )

    def make_confirmation_token(self) -> str:
        """A signed, timestamped token naming this signature by its public id."""
        return signing.dumps({"s": self.public_id}, salt=CONFIRMATION_SALT, compress=True)

    def make_manage_token(self) -> str:
        """The "manage my signature" link's token: "<public id>:<signature>".

        It does not expire (the signatory may come back any time), and is signed
        with a salt that includes `manage_secret`: replacing the secret (a
        moderator renewing the link) makes every earlier link invalid.
        """
        return signing.Signer(salt=f"{MANAGE_SALT}:{self.manage_secret}").sign(self.public_id)

    @classmethod
    def from_manage_token(cls, token: str) -> "Signature | None":
        """The signature a manage token names, or None when it is unknown, forged or revoked."""
        public_id, separator, _signature = token.partition(":")
        if not separator:
            return None
        signature = (
            cls.objects.select_related("declaration", "territory__departement")
            .filter(public_id=public_id)
            .first()
        )
        if signature is None:
            return None
        try:
            signing.Signer(salt=f"{MANAGE_SALT}:{signature.manage_secret}").unsign(token)
        except signing.BadSignature:
            return None
        return signature

    @classmethod
    def public_id_from_confirmation_token(cls, token: str) -> str:
        """The signature's public id; raises signing.SignatureExpired or signing.BadSignature.

        Single use comes from the status: once confirmed, the signature is no
        longer pending and the confirmation refuses it.
        """
        data = signing.loads(token, salt=CONFIRMATION_SALT, max_age=CONFIRMATION_MAX_AGE)
        if not isinstance(data, dict) or not isinstance(data.get("s"), str):
            raise signing.BadSignature("unexpected payload")
        return data["s"]


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
    NOTIFIED_ACTIONS = (Action.APPROVE, Action.REJECT, Action.WITHDRAW)

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
    reason = models.CharField(_("motif"), max_length=30, choices=Reason, blank=True)
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


class SignatureStats(models.Model):
    """Counts of a declaration's published signatures, recomputed by Celery.

    Public pages, the widget and the API read this snapshot (through the cache),
    so showing counts costs the same at 10 or 100,000 signatures and never
    contends with signing. See signatures/stats.py.
    """

    declaration = models.OneToOneField(
        Declaration,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="stats",
        verbose_name=_("déclaration"),
    )
    total = models.PositiveIntegerField(_("signatures publiées"), default=0)
    population = models.PositiveBigIntegerField(_("population couverte"), default=0)
    # {territory kind: count}
    by_kind = models.JSONField(_("par type de territoire"), default=dict)
    # [{"slug", "name", "count"}]
    by_network = models.JSONField(_("par réseau"), default=list)
    # [{"code", "name", "count"}]
    by_region = models.JSONField(_("par région"), default=list)
    # {code: signing territories}
    by_departement = models.JSONField(_("par département"), default=dict)
    # [["YYYY-MM-DD", count]], Paris dates
    by_day = models.JSONField(_("par jour"), default=list)
    # {verification level: count}
    by_verification = models.JSONField(_("par niveau de vérification"), default=dict)
    # Changes whenever the published set or what it shows changes: ETags use it.
    version = models.CharField(_("version"), max_length=64, blank=True)
    last_change_at = models.DateTimeField(_("dernier changement le"), null=True, blank=True)
    computed_at = models.DateTimeField(_("calculées le"), default=timezone.now)

    class Meta:
        verbose_name = _("statistiques")
        verbose_name_plural = _("statistiques")

    def __str__(self) -> str:
        return f"{self.declaration_id}: {self.total}"


class SocialImage(models.Model):
    """The picture link previews show for a declaration (og:image), with its count.

    Drawn by a Celery task whenever the published count changes (see
    signatures/social_image.py), kept in the database so every web process
    serves the same bytes without drawing anything in a request.
    """

    declaration = models.OneToOneField(
        Declaration,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="social_image",
        verbose_name=_("déclaration"),
    )
    image = models.BinaryField(_("image PNG"))
    # What the picture shows: redrawn when either changes.
    count = models.PositiveIntegerField(_("nombre affiché"))
    title = models.TextField(_("titre affiché"))
    made_at = models.DateTimeField(_("dessinée le"), default=timezone.now)

    class Meta:
        verbose_name = _("image de partage")
        verbose_name_plural = _("images de partage")

    def __str__(self) -> str:
        return f"{self.declaration_id}: {self.count}"


# A mayor leads a commune; a président·e leads every other kind of local authority.
FUNCTIONS_BY_KIND = {
    Signature.Function.MAIRE: {Territory.Kind.COMMUNE},
    Signature.Function.PRESIDENT: set(Territory.Kind) - {Territory.Kind.COMMUNE},
}


def function_fits(function: str, kind: str) -> bool:
    """False for an executive function that does not lead this kind (a "Maire" of an EPCI)."""
    kinds = FUNCTIONS_BY_KIND.get(function)
    return kinds is None or kind in kinds
