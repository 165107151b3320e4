"""The list's actions on signatures: status decisions, contests and corrections, the
signatory's links and data. Each calls one service function per selected signature."""

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from signatures import services
from signatures.models import Contest, Correction, ModerationEvent

from .. import decisions
from .forms import RejectForm

Action = ModerationEvent.Action

# What the actions report, each with the number of signatures (or rows) it changed.
TREATED = ngettext_lazy("%(count)d signature traitée.", "%(count)d signatures traitées.", "count")
NOT_ALLOWED = ngettext_lazy(
    "%(count)d signature ignorée : son statut ne permet pas cette action.",
    "%(count)d signatures ignorées : leur statut ne permet pas cette action.",
    "count",
)
KEPT = ngettext_lazy(
    "%(count)d signature maintenue ; les contestataires sont prévenus.",
    "%(count)d signatures maintenues ; les contestataires sont prévenus.",
    "count",
)
CORRECTIONS_DECIDED = ngettext_lazy(
    "%(count)d correction traitée ; le signataire est prévenu.",
    "%(count)d corrections traitées ; les signataires sont prévenus.",
    "count",
)
LINKS_RENEWED = ngettext_lazy(
    "%(count)d lien renouvelé et envoyé.", "%(count)d liens renouvelés et envoyés.", "count"
)
LINKS_RESENT = ngettext_lazy(
    "%(count)d lien renvoyé (seules les signatures en attente en reçoivent).",
    "%(count)d liens renvoyés (seules les signatures en attente en reçoivent).",
    "count",
)
ANONYMISED = ngettext_lazy(
    "%(count)d signature anonymisée.", "%(count)d signatures anonymisées.", "count"
)


def report_count(model_admin, request, message, count: int, level=messages.INFO) -> None:
    """Tell the moderator how many rows an action changed; `message` is an
    ngettext_lazy whose number is named "count", as above."""
    model_admin.message_user(request, message % {"count": count}, level)


def reason_page(model_admin, request, form, signatures, *, template, action, **context):
    """The page asking a refusal's reason and note (a ReasonForm) for these signatures:
    posting back to the list's `action`, or to a signature page's `decide_url`."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "queryset": signatures,
        "form": form,
        "action": action,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "decide_url": None,
        **context,
    }
    return TemplateResponse(request, template, context)


def for_each_signature(queryset, service, **arguments) -> list:
    """service(signature_id=pk, **arguments) for each selected signature, one call (and
    so one transaction) each: the results, in order."""
    return [service(signature_id=pk, **arguments) for pk in queryset.values_list("pk", flat=True)]


class StatusActionsMixin:
    """Decisions on a signature's status, through services.change_status: from the list's
    actions, and (_decide, _reject_page) from a signature's page."""

    @admin.action(description=_("Publier"), permissions=["moderate"])
    def approve(self, request, queryset):
        self._change_status(request, queryset, Action.APPROVE)

    @admin.action(description=_("Refuser (avec un motif)…"), permissions=["moderate"])
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._change_status(request, queryset, Action.REJECT, **form.cleaned_data)
            return None
        return self._reject_page(
            request,
            form,
            queryset.select_related("territory"),
            title=_("Refuser des signatures"),
            cancel_url=reverse(f"admin:{self._url_prefix}_changelist"),
        )

    @admin.action(
        description=_("Libérer (suspecte → envoi du lien de confirmation)"),
        permissions=["moderate"],
    )
    def release(self, request, queryset):
        self._change_status(request, queryset, Action.RELEASE)

    @admin.action(description=_("Retirer à la demande du signataire"), permissions=["moderate"])
    def withdraw(self, request, queryset):
        self._change_status(request, queryset, Action.WITHDRAW)

    def _reject_page(self, request, form, signatures, **context):
        """The reason and note to refuse with: asked by the list's action, or shown again
        when a signature's page sent an incomplete refusal."""
        return reason_page(
            self,
            request,
            form,
            signatures,
            template="admin/signatures/reject.html",
            action=Action.REJECT,
            **context,
        )

    def _decide(self, request, signature, action, **decision) -> str:
        """One decision through services.change_status, which checks the source status,
        records the audit event and emails after commit: "done", "not_allowed" or "taken"."""
        try:
            services.change_status(
                signature_id=signature.pk, action=action, actor=request.user, **decision
            )
        except services.InvalidTransition:
            return "not_allowed"
        except services.TerritoryAlreadySigned:
            return "taken"
        return "done"

    def _change_status(self, request, queryset, action, **decision):
        """Apply one decision to each signature; report what was done and what was refused."""
        counts, taken = {"done": 0, "not_allowed": 0}, []
        for signature in queryset.select_related("territory"):
            outcome = self._decide(request, signature, action, **decision)
            if outcome == "taken":
                taken.append(signature.territory.name)
            else:
                counts[outcome] += 1
        if counts["done"]:
            report_count(self, request, TREATED, counts["done"], messages.SUCCESS)
        if counts["not_allowed"]:
            report_count(self, request, NOT_ALLOWED, counts["not_allowed"], messages.WARNING)
        if taken:
            self.message_user(
                request,
                _("Refusé : ces territoires ont déjà une signature publiée ou confirmée : %s")
                % ", ".join(taken),
                messages.ERROR,
            )


class ContestAndCorrectionActionsMixin:
    """Contests kept aside, and the signatories' corrections published or refused."""

    @admin.action(
        description=_("Maintenir malgré la contestation (prévient le contestataire)"),
        permissions=["moderate"],
    )
    def keep_contested(self, request, queryset):
        decided = for_each_signature(
            queryset,
            services.decide_contests,
            outcome=Contest.Outcome.DISMISSED,
            actor=request.user,
        )
        report_count(self, request, KEPT, sum(bool(count) for count in decided))

    @admin.action(description=_("Publier la correction proposée"), permissions=["moderate"])
    def approve_correction(self, request, queryset):
        self._decide_corrections(request, queryset, approve=True)

    @admin.action(description=_("Refuser la correction proposée"), permissions=["moderate"])
    def reject_correction(self, request, queryset):
        self._decide_corrections(request, queryset, approve=False)

    def _decide_corrections(self, request, queryset, *, approve: bool):
        open_corrections = list(
            Correction.objects.filter(signature__in=queryset, decided_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
        for pk in open_corrections:
            decisions.decide_correction(correction_id=pk, approve=approve, actor=request.user)
        report_count(self, request, CORRECTIONS_DECIDED, len(open_corrections))


class SignatoryActionsMixin:
    """The signatory's links sent again or renewed, and their personal data erased."""

    @admin.action(
        description=_("Renouveler le lien « Gérer ma signature » (l'ancien ne marche plus)"),
        permissions=["moderate"],
    )
    def renew_manage_link(self, request, queryset):
        renewed = for_each_signature(queryset, decisions.renew_manage_link, actor=request.user)
        report_count(self, request, LINKS_RENEWED, len(renewed))

    @admin.action(description=_("Renvoyer le lien de confirmation"), permissions=["moderate"])
    def resend_confirmation(self, request, queryset):
        sent = for_each_signature(
            queryset, decisions.resend_link_for_moderator, actor=request.user
        )
        report_count(self, request, LINKS_RESENT, sum(sent))

    @admin.action(
        description=_("Anonymiser (efface les données personnelles)"), permissions=["moderate"]
    )
    def anonymise(self, request, queryset):
        anonymised = for_each_signature(queryset, services.anonymise_signature, actor=request.user)
        report_count(self, request, ANONYMISED, len(anonymised))
