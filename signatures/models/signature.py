"""A territory's signature of a declaration, from submission to publication."""

import datetime

from django.conf import settings
from django.core import signing
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from declarations.models import Declaration, Network
from territories.models import Territory

from ..text import email_domain
from .keys import (
    CONFIRMATION_MAX_AGE,
    CONFIRMATION_SALT,
    MANAGE_SALT,
    RESEND_COOLDOWN,
    deliberation_path,
    new_manage_secret,
    new_public_id,
    private_storage,
    source_hash,
)
from .queries import SignatureQuerySet

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

    class DeliberationReview(models.TextChoices):
        """A moderator's look at the attached deliberation: only an accepted one raises
        the verification level (proof.levels)."""

        PENDING = "pending", _("à examiner")
        ACCEPTED = "accepted", _("acceptée")
        REFUSED = "refused", _("refusée")

    class DeliberationRefusal(models.TextChoices):
        """Why a deliberation was refused, as the signatory reads it."""

        ILLEGIBLE = "illegible", _("Document illisible, incomplet ou non signé")
        NOT_A_MANDATE = "not_a_mandate", _("Ni une délibération ni un mandat autorisant à signer")
        OTHER_TERRITORY = "other_territory", _("Document d'un autre territoire")
        # Not "other": ModerationEvent.reason holds these and its own Reason.OTHER.
        OTHER = "deliberation_other", _("Autre motif concernant le document")

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
    # Empty until a deliberation is attached; each new file waits for a moderator again
    # (proof.deliberations). Anonymisation blanks the file and keeps the review, so the
    # level an accepted deliberation earned stays.
    deliberation_review = models.CharField(
        _("examen de la délibération"), max_length=10, choices=DeliberationReview, blank=True
    )
    deliberation_reviewed_at = models.DateTimeField(
        _("délibération examinée le"), null=True, blank=True
    )
    deliberation_refusal_reason = models.CharField(
        _("motif du refus de la délibération"),
        max_length=30,
        choices=DeliberationRefusal,
        blank=True,
    )
    deliberation_refusal_note = models.TextField(
        _("précisions sur le refus de la délibération"), max_length=1000, blank=True
    )
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
            # A file nobody reviewed is "pending", never blank: blank does not count either,
            # but moderators would not see it waiting.
            models.CheckConstraint(
                condition=Q(deliberation="") | ~Q(deliberation_review=""),
                name="signature_deliberation_has_a_review",
            ),
            # The signatory is told why: a refusal always has its reason.
            models.CheckConstraint(
                condition=~Q(deliberation_review="refused") | ~Q(deliberation_refusal_reason=""),
                name="signature_deliberation_refusal_has_a_reason",
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


# A mayor leads a commune; a président·e leads every other kind of local authority.
FUNCTIONS_BY_KIND = {
    Signature.Function.MAIRE: {Territory.Kind.COMMUNE},
    Signature.Function.PRESIDENT: set(Territory.Kind) - {Territory.Kind.COMMUNE},
}


def function_fits(function: str, kind: str) -> bool:
    """False for an executive function that does not lead this kind (a "Maire" of an EPCI)."""
    kinds = FUNCTIONS_BY_KIND.get(function)
    return kinds is None or kind in kinds
