"""Moderation in the admin: queue, flags, decisions with reasons, audit trail, exports."""

import datetime

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from declarations.models import Declaration
from signatures import services
from signatures.models import (
    Contest,
    Correction,
    Flag,
    ModerationEvent,
    ModerationQueue,
    Signature,
)
from signatures.proof import deliberations, levels
from territories.models import Territory, TerritoryDomain

from . import decisions

Action = ModerationEvent.Action


class TerritoryKindFilter(admin.SimpleListFilter):
    title = _("type de territoire")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return Territory.Kind.choices

    def queryset(self, request, queryset):
        return queryset.filter(territory__kind=self.value()) if self.value() else queryset


class RegionFilter(admin.SimpleListFilter):
    title = _("région")
    parameter_name = "region"

    def lookups(self, request, model_admin):
        regions = Territory.objects.filter(kind__in=[Territory.Kind.REGION, Territory.Kind.COM])
        return [(str(r.pk), r.name) for r in regions.order_by("name")]

    def queryset(self, request, queryset):
        return queryset.filter(territory__region_id=self.value()) if self.value() else queryset


class NetworkFilter(admin.RelatedFieldListFilter):
    """The networks, and the signatures in none of them by name rather than "-"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.empty_value_display = _("Aucun réseau")


class FlagFilter(admin.SimpleListFilter):
    title = _("signal")
    parameter_name = "flag"

    def lookups(self, request, model_admin):
        return [*Flag.Code.choices, ("none", _("Aucun signal"))]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        flags = Flag.objects.filter(signature=OuterRef("pk"))
        if self.value() == "none":
            return queryset.filter(~Exists(flags))
        return queryset.filter(Exists(flags.filter(code=self.value())))


class ReadOnlyInline(admin.TabularInline):
    """Rows shown on a signature's page that nobody adds, edits or deletes there."""

    extra = 0
    can_delete = False
    template = "admin/signatures/readonly_tabular.html"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class FlagInline(ReadOnlyInline):
    model = Flag
    empty_text = _("Aucun signal.")
    fields = ["code", "detail", "created_at"]
    readonly_fields = fields


class ModerationEventInline(ReadOnlyInline):
    """The audit trail, shown and never editable."""

    model = ModerationEvent
    empty_text = _("Aucune entrée.")
    fields = [
        "created_at",
        "action",
        "actor",
        "from_status",
        "to_status",
        "reason",
        "note",
        "notified_at",
        "notification_failed_at",
        "notification_error",
    ]
    readonly_fields = fields
    ordering = ["created_at", "pk"]


class ContestInline(ReadOnlyInline):
    model = Contest
    empty_text = _("Aucune contestation.")
    fields = [
        "submitted_at",
        "first_name",
        "last_name",
        "function",
        "email",
        "message",
        "outcome",
        "decided_at",
        "answered_at",
    ]
    readonly_fields = fields


class CorrectionInline(ReadOnlyInline):
    """Corrections the signatory proposed, with what each changes."""

    model = Correction
    empty_text = _("Aucune correction proposée.")
    fields = ["submitted_at", "changes", "outcome", "decided_at"]
    readonly_fields = fields

    @admin.display(description=_("modifications (public actuel → proposé)"))
    def changes(self, correction):
        return (
            format_html_join(
                mark_safe("<br>"),
                "<strong>{}</strong> : « {} » → « {} »",
                correction.changes(),
            )
            or "—"
        )


class RejectForm(forms.Form):
    # No reason chosen in advance: a refusal's reason is told to the signatory.
    reason = forms.ChoiceField(
        label=_("Motif"), choices=[("", _("Choisir un motif…")), *ModerationEvent.Reason.choices]
    )
    note = forms.CharField(
        label=_("Précisions (envoyées au signataire)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=1000,
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == ModerationEvent.Reason.OTHER and not cleaned.get("note"):
            self.add_error("note", _("Précisez le motif."))
        return cleaned


# The decisions a signature's page offers, in this order, when its status allows them
# (services.TRANSITIONS): the rest stays in the list's action menu.
PAGE_DECISIONS = (Action.APPROVE, Action.RELEASE, Action.REJECT)
SIRENE_URL = "https://annuaire-entreprises.data.gouv.fr/entreprise/{}"


def _lines(*lines) -> str:
    """Cell lines of a list column: the first as is, the others smaller, each on its own line."""
    first, *others = lines
    return format_html(
        "{}{}",
        first,
        format_html_join("", '<span class="cell-detail">{}</span>', ((line,) for line in others)),
    )


class SignatureAdminBase(admin.ModelAdmin):
    """Read-only rows; the status only changes through the moderation decisions, from the
    list's actions or from a signature's page."""

    # Four wrapping columns rather than eleven: the list fits beside the filters at 1280 px.
    list_display = ["territory_column", "signatory_column", "status_column", "dates_column"]
    list_filter = [
        "status",
        "declaration",
        TerritoryKindFilter,
        RegionFilter,
        ("networks", NetworkFilter),
        FlagFilter,
        "verification",
    ]
    search_fields = [
        "first_name",
        "last_name",
        "email",
        "territory__name",
        "territory__siren",
        "territory__code",
    ]
    date_hierarchy = "submitted_at"
    list_select_related = ["territory__departement", "territory__region", "declaration"]
    list_per_page = 100
    actions = [
        "approve",
        "reject",
        "release",
        "keep_contested",
        "approve_correction",
        "reject_correction",
        "withdraw",
        "renew_manage_link",
        "resend_confirmation",
        "anonymise",
        "make_deliberation_public",
        "make_deliberation_private",
    ]
    inlines = [FlagInline, ContestInline, CorrectionInline, ModerationEventInline]
    change_form_template = "admin/signatures/signature/change_form.html"
    # The raw file field would link to a storage URL nothing serves: deliberation_link instead.
    exclude = ["networks", "deliberation"]
    fieldsets = [
        (
            _("Territoire et signataire"),
            {
                "fields": [
                    "territory",
                    "territory_details",
                    "sirene_link",
                    "declaration",
                    "civility",
                    "first_name",
                    "last_name",
                    "function",
                    "function_other",
                    "email",
                    "phone",
                    "network_names",
                    "comment",
                ]
            },
        ),
        (
            _("Statut et signaux"),
            {
                "fields": [
                    "status",
                    "flag_summary",
                    "verification",
                    "submitted_at",
                    "confirmed_at",
                    "published_at",
                    "rejected_at",
                    "withdrawn_at",
                    "anonymised_at",
                    "corrected_at",
                    "public_id",
                ]
            },
        ),
        (
            _("Preuve du lien avec le territoire"),
            {
                "fields": [
                    "deliberation_link",
                    "deliberation_uploaded_at",
                    "proconnect_siret",
                    "proconnect_verified_at",
                    "signs_on_behalf",
                    "filler_first_name",
                    "filler_last_name",
                    "filler_function",
                    "declares_authorised",
                ]
            },
        ),
        (
            _("Consentements"),
            {
                "classes": ["collapse"],
                "fields": [
                    "consents_to_publication",
                    "consents_to_news",
                    "consent_version",
                    "consented_at",
                ],
            },
        ),
        (
            _("Provenance de l'envoi"),
            {
                "classes": ["collapse"],
                "fields": [
                    "fill_seconds",
                    "submitted_ip",
                    "ip_hash",
                    "email_domain",
                    "user_agent",
                ],
            },
        ),
        (
            _("E-mail de confirmation"),
            {
                "classes": ["collapse"],
                "fields": [
                    "confirmation_queued_at",
                    "confirmation_sent_at",
                    "confirmation_send_count",
                    "confirmation_failed_at",
                    "confirmation_error",
                ],
            },
        ),
    ]
    readonly_fields = [
        "public_id",
        "verification",
        "deliberation_link",
        "territory_details",
        "sirene_link",
        "flag_summary",
        "deliberation_uploaded_at",
        "consent_version",
        "consented_at",
        "corrected_at",
        "proconnect_siret",
        "proconnect_verified_at",
        "signs_on_behalf",
        "filler_first_name",
        "filler_last_name",
        "filler_function",
        "declares_authorised",
        "civility",
        "declaration",
        "territory",
        "first_name",
        "last_name",
        "function",
        "function_other",
        "email",
        "phone",
        "network_names",
        "comment",
        "consents_to_publication",
        "consents_to_news",
        "status",
        "submitted_at",
        "confirmed_at",
        "published_at",
        "rejected_at",
        "withdrawn_at",
        "anonymised_at",
        "fill_seconds",
        "submitted_ip",
        "ip_hash",
        "email_domain",
        "user_agent",
        "confirmation_queued_at",
        "confirmation_sent_at",
        "confirmation_send_count",
        "confirmation_failed_at",
        "confirmation_error",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("flags", "networks")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # decisions go through the actions, which keep the audit trail

    def has_delete_permission(self, request, obj=None):
        return False  # anonymise instead: the territory and date still count

    def has_moderate_permission(self, request):
        return request.user.has_perm("signatures.moderate_signature")

    @property
    def _url_prefix(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}"

    def get_urls(self):
        decide = path(
            "<path:object_id>/decider/",
            self.admin_site.admin_view(self.decide_view),
            name=f"{self._url_prefix}_decide",
        )
        return [decide, *super().get_urls()]

    def page_decisions(self, request, signature) -> list[str]:
        """The decisions this moderator may take on this signature's page, now."""
        if not self.has_moderate_permission(request):
            return []
        return [
            action
            for action in PAGE_DECISIONS
            if signature.status in services.TRANSITIONS[action][0]
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        signature = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if signature is not None:
            context["can_moderate"] = self.has_moderate_permission(request)
            context["decisions"] = self.page_decisions(request, signature)
            context["decide_url"] = self._preserving_filters(
                request, f"admin:{self._url_prefix}_decide", signature.pk
            )
            context["reject_form"] = RejectForm(prefix="reject")
        return super().change_view(request, object_id, form_url, context)

    def decide_view(self, request, object_id):
        """A decision taken on a signature's page: the list's code path for one signature."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_moderate_permission(request):
            raise PermissionDenied
        signature = self.get_object(request, unquote(object_id))
        if signature is None:
            raise Http404
        if not self.has_view_permission(request, signature):
            raise PermissionDenied
        action = request.POST.get("decision")
        if action not in PAGE_DECISIONS:
            return HttpResponseBadRequest()
        decision = {}
        if action == Action.REJECT:
            form = RejectForm(request.POST, prefix="reject")
            if not form.is_valid():
                return self._reject_page(
                    request,
                    form,
                    [signature],
                    title=_("Refuser la signature « %(territory)s »")
                    % {"territory": signature.territory.name},
                    cancel_url=self._page_url(request, signature),
                    decide_url=request.get_full_path(),
                )
            decision = form.cleaned_data
        outcome = self._decide(request, signature, action, **decision)
        self._report_page_decision(request, signature, action, outcome)
        if self.get_queryset(request).filter(pk=signature.pk).exists():
            return redirect(self._page_url(request, signature))
        # Decided, it left this list (the queue): back to what is left to decide.
        return redirect(self._preserving_filters(request, f"admin:{self._url_prefix}_changelist"))

    def _page_url(self, request, signature) -> str:
        return self._preserving_filters(request, f"admin:{self._url_prefix}_change", signature.pk)

    def _preserving_filters(self, request, name, *args) -> str:
        """The URL, keeping the list's filters the moderator came with."""
        context = {"opts": self.opts, "preserved_filters": self.get_preserved_filters(request)}
        return add_preserved_filters(context, reverse(name, args=args))

    def _report_page_decision(self, request, signature, action, outcome) -> None:
        territory = signature.territory.name
        if outcome == "taken":
            message = _(
                "Décision refusée : %(territory)s a déjà une signature publiée ou confirmée."
            )
            self.message_user(request, message % {"territory": territory}, messages.ERROR)
        elif outcome == "not_allowed":
            signature.refresh_from_db(fields=["status"])
            if signature.status in services.TRANSITIONS[action][0]:
                # The status allows it, the service still refused: a released suspect would
                # duplicate the pending signature its address already has for the territory.
                message = _(
                    "Décision impossible : la même adresse a déjà une signature en attente "
                    "de confirmation pour ce territoire."
                )
            else:
                message = _(
                    "Décision impossible : le statut de la signature (%(status)s) ne le "
                    "permet pas."
                ) % {"status": signature.get_status_display()}
            self.message_user(request, message, messages.ERROR)
        else:
            done = {
                Action.APPROVE: _(
                    "Signature publiée pour %(territory)s ; le signataire est prévenu par e-mail."
                ),
                Action.REJECT: _(
                    "Signature refusée pour %(territory)s ; le signataire reçoit le motif par "
                    "e-mail."
                ),
                Action.RELEASE: _(
                    "Signature libérée pour %(territory)s ; le lien de confirmation est envoyé "
                    "au signataire."
                ),
            }[action]
            self.message_user(request, done % {"territory": territory}, messages.SUCCESS)

    @admin.display(description=_("territoire"), ordering="territory__name")
    def territory_column(self, signature):
        return _lines(signature.territory.name, self.territory_details(signature))

    @admin.display(description=_("signataire"), ordering="last_name")
    def signatory_column(self, signature):
        return _lines(
            signature.full_name,
            signature.function_label,
            format_html('<span class="cell-email">{}</span>', signature.email or "—"),
        )

    @admin.display(description=_("statut"), ordering="status")
    def status_column(self, signature):
        return _lines(
            signature.get_status_display(),
            _("vérification : %(level)s") % {"level": signature.get_verification_display()},
            *[str(flag) for flag in signature.flags.all()],
        )

    @admin.display(description=_("dates"), ordering="submitted_at")
    def dates_column(self, signature):
        dates = [
            (_("soumise le %(date)s"), signature.submitted_at),
            (_("confirmée le %(date)s"), signature.confirmed_at),
        ]
        return _lines(
            *[
                label % {"date": date_format(timezone.localtime(at), "SHORT_DATETIME_FORMAT")}
                for label, at in dates
                if at
            ]
        )

    @admin.display(description=_("type et lieu"))
    def territory_details(self, signature):
        territory = signature.territory
        places = [t.name for t in (territory.departement, territory.region) if t]
        return " — ".join([territory.get_kind_display(), *dict.fromkeys(places)])

    @admin.display(description=_("fiche SIRENE"))
    def sirene_link(self, signature):
        """The official company register's page of the territory, to judge its eligibility."""
        siren = signature.territory.siren
        if not siren:
            return _("SIREN inconnu")
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            SIRENE_URL.format(siren),
            _("SIREN %(siren)s sur l'Annuaire des entreprises (nouvel onglet)") % {"siren": siren},
        )

    @admin.display(description=_("signaux"))
    def flag_summary(self, signature):
        return ", ".join(str(flag) for flag in signature.flags.all()) or "—"

    @admin.display(description=_("réseaux"))
    def network_names(self, signature):
        return signature.network_names or "—"

    @admin.display(description=_("délibération ou mandat"))
    def deliberation_link(self, signature):
        if not signature.deliberation:
            return "—"
        return format_html(
            '<a href="{}">{}</a> — {}',
            reverse("signatures:deliberation", args=[signature.public_id]),
            _("Délibération : ouvrir (PDF)"),
            _("publique") if signature.deliberation_is_public else _("privée"),
        )

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

    def _reject_page(self, request, form, signatures, *, title, cancel_url, decide_url=None):
        """The reason and note to refuse with: asked by the list's action, or shown again
        when a signature's page sent an incomplete refusal."""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "queryset": signatures,
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "decide_url": decide_url,
            "cancel_url": cancel_url,
        }
        return TemplateResponse(request, "admin/signatures/reject.html", context)

    @admin.action(
        description=_("Libérer (suspecte → envoi du lien de confirmation)"),
        permissions=["moderate"],
    )
    def release(self, request, queryset):
        self._change_status(request, queryset, Action.RELEASE)

    @admin.action(
        description=_("Maintenir malgré la contestation (prévient le contestataire)"),
        permissions=["moderate"],
    )
    def keep_contested(self, request, queryset):
        kept = sum(
            bool(
                services.decide_contests(
                    signature_id=pk, outcome=Contest.Outcome.DISMISSED, actor=request.user
                )
            )
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d signature maintenue ; les contestataires sont prévenus.",
                "%(count)d signatures maintenues ; les contestataires sont prévenus.",
                kept,
            )
            % {"count": kept},
        )

    @admin.action(description=_("Publier la correction proposée"), permissions=["moderate"])
    def approve_correction(self, request, queryset):
        self._decide_corrections(request, queryset, approve=True)

    @admin.action(description=_("Refuser la correction proposée"), permissions=["moderate"])
    def reject_correction(self, request, queryset):
        self._decide_corrections(request, queryset, approve=False)

    def _decide_corrections(self, request, queryset, *, approve: bool):
        open_corrections = Correction.objects.filter(
            signature__in=queryset, decided_at__isnull=True
        ).values_list("pk", flat=True)
        count = 0
        for pk in list(open_corrections):
            decisions.decide_correction(correction_id=pk, approve=approve, actor=request.user)
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d correction traitée ; le signataire est prévenu.",
                "%(count)d corrections traitées ; les signataires sont prévenus.",
                count,
            )
            % {"count": count},
        )

    @admin.action(
        description=_("Renouveler le lien « Gérer ma signature » (l'ancien ne marche plus)"),
        permissions=["moderate"],
    )
    def renew_manage_link(self, request, queryset):
        pks = list(queryset.values_list("pk", flat=True))
        for pk in pks:
            decisions.renew_manage_link(signature_id=pk, actor=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d lien renouvelé et envoyé.",
                "%(count)d liens renouvelés et envoyés.",
                len(pks),
            )
            % {"count": len(pks)},
        )

    @admin.action(description=_("Retirer à la demande du signataire"), permissions=["moderate"])
    def withdraw(self, request, queryset):
        self._change_status(request, queryset, Action.WITHDRAW)

    @admin.action(description=_("Renvoyer le lien de confirmation"), permissions=["moderate"])
    def resend_confirmation(self, request, queryset):
        sent = sum(
            decisions.resend_link_for_moderator(signature_id=pk, actor=request.user)
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d lien renvoyé (seules les signatures en attente en reçoivent).",
                "%(count)d liens renvoyés (seules les signatures en attente en reçoivent).",
                sent,
            )
            % {"count": sent},
        )

    @admin.action(
        description=_("Anonymiser (efface les données personnelles)"), permissions=["moderate"]
    )
    def anonymise(self, request, queryset):
        pks = list(queryset.values_list("pk", flat=True))
        for pk in pks:
            services.anonymise_signature(signature_id=pk, actor=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d signature anonymisée.", "%(count)d signatures anonymisées.", len(pks)
            )
            % {"count": len(pks)},
        )

    @admin.action(description=_("Rendre la délibération publique"), permissions=["moderate"])
    def make_deliberation_public(self, request, queryset):
        changed = self._set_deliberation_public(request, queryset, is_public=True)
        self.message_user(
            request,
            ngettext(
                "%(count)d délibération rendue publique.",
                "%(count)d délibérations rendues publiques.",
                changed,
            )
            % {"count": changed},
        )

    @admin.action(description=_("Rendre la délibération privée"), permissions=["moderate"])
    def make_deliberation_private(self, request, queryset):
        changed = self._set_deliberation_public(request, queryset, is_public=False)
        self.message_user(
            request,
            ngettext(
                "%(count)d délibération rendue privée.",
                "%(count)d délibérations rendues privées.",
                changed,
            )
            % {"count": changed},
        )

    def _set_deliberation_public(self, request, queryset, *, is_public: bool) -> int:
        """How many changed; signatures without a deliberation, or already so, are left."""
        return sum(
            deliberations.set_deliberation_public(
                signature_id=pk, is_public=is_public, actor=request.user
            )
            for pk in queryset.exclude(deliberation="").values_list("pk", flat=True)
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
        done, not_allowed, taken = 0, 0, []
        for signature in queryset.select_related("territory"):
            outcome = self._decide(request, signature, action, **decision)
            if outcome == "done":
                done += 1
            elif outcome == "not_allowed":
                not_allowed += 1
            else:
                taken.append(signature.territory.name)
        if done:
            self.message_user(
                request,
                ngettext("%(count)d signature traitée.", "%(count)d signatures traitées.", done)
                % {"count": done},
                messages.SUCCESS,
            )
        if not_allowed:
            self.message_user(
                request,
                ngettext(
                    "%(count)d signature ignorée : son statut ne permet pas cette action.",
                    "%(count)d signatures ignorées : leur statut ne permet pas cette action.",
                    not_allowed,
                )
                % {"count": not_allowed},
                messages.WARNING,
            )
        if taken:
            self.message_user(
                request,
                _("Refusé : ces territoires ont déjà une signature publiée ou confirmée : %s")
                % ", ".join(taken),
                messages.ERROR,
            )


class SourceForm(forms.Form):
    """The trending view's question: which declaration, over which recent window."""

    declaration = forms.ModelChoiceField(
        label=_("Déclaration"), queryset=Declaration.objects.all(), empty_label=None
    )
    hours = forms.TypedChoiceField(
        label=_("Sur les dernières"),
        coerce=int,
        choices=[
            (1, _("1 heure")),
            (24, _("24 heures")),
            (168, _("7 jours")),
            (720, _("30 jours")),
        ],
        initial=24,
    )


class InvalidationForm(forms.Form):
    """One source (an IP hash, an email domain or a user agent) in a time window."""

    declaration = forms.ModelChoiceField(queryset=Declaration.objects.all())
    field = forms.ChoiceField(
        choices=[
            ("ip_hash", _("empreinte d'adresse IP")),
            ("email_domain", _("domaine e-mail")),
            ("user_agent", _("navigateur (user agent)")),
        ]
    )
    value = forms.CharField(max_length=300)
    start = forms.DateTimeField(label=_("Du"))
    end = forms.DateTimeField(label=_("Au"))
    note = forms.CharField(label=_("Précisions (journal de modération)"), required=False)

    def matching(self):
        data = self.cleaned_data
        return Signature.objects.from_source(
            data["declaration"], data["field"], data["value"], data["start"], data["end"]
        ).filter(status__in=decisions.INVALIDATED_STATUSES)


@admin.register(Signature)
class SignatureAdmin(SignatureAdminBase):
    change_list_template = "admin/signatures/signature/change_list.html"

    def get_urls(self):
        own = [
            path(
                "sources/",
                self.admin_site.admin_view(self.sources_view),
                name="signatures_signature_sources",
            ),
            path(
                "sources/invalider/",
                self.admin_site.admin_view(self.invalidate_view),
                name="signatures_signature_invalidate",
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="signatures_signature_export",
            ),
        ]
        return own + super().get_urls()

    def has_export_permission(self, request) -> bool:
        """As django-import-export decides it, without importing the library."""
        codename = get_permission_codename(
            settings.IMPORT_EXPORT_EXPORT_PERMISSION_CODE, self.opts
        )
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_export_permission": self.has_export_permission(request),
            "ie_base_change_list_template": "admin/change_list.html",
        }
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        """django-import-export's export page and files, loaded at the first export.

        The library probes every spreadsheet format when it is imported, which loads
        openpyxl and Pillow: about 20 MiB in each web process for a page moderators
        open now and then (docs/performance.md, Memory).
        """
        from .exports import SignatureExportAdmin  # noqa: PLC0415

        return SignatureExportAdmin(self.model, self.admin_site).export_action(request)

    def sources_view(self, request):
        """Sources with many signatures in a short window, per declaration."""
        if not self.has_moderate_permission(request):
            raise PermissionDenied
        form = SourceForm(request.GET or {"declaration": Declaration.objects.first(), "hours": 24})
        tables = []
        if form.is_valid():
            now = timezone.now()
            since = now - datetime.timedelta(hours=form.cleaned_data["hours"])
            declaration = form.cleaned_data["declaration"]
            for field, label in InvalidationForm.base_fields["field"].choices:
                rows = Signature.objects.trending_sources(declaration, field, since)
                tables.append(
                    {
                        "field": field,
                        "label": label,
                        "rows": [
                            {
                                "value": value,
                                "signatures": signatures,
                                "territories": territories,
                                "invalidate_query": {
                                    "declaration": declaration.pk,
                                    "field": field,
                                    "value": value,
                                    "start": since.isoformat(),
                                    "end": now.isoformat(),
                                },
                            }
                            for value, signatures, territories in rows
                        ],
                    }
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Sources en hausse"),
            "opts": self.opts,
            "form": form,
            "tables": tables,
        }
        return TemplateResponse(request, "admin/signatures/sources.html", context)

    def invalidate_view(self, request):
        """Preview how many signatures a condition takes out, then reject them on POST."""
        if not self.has_moderate_permission(request):
            raise PermissionDenied
        form = InvalidationForm(request.POST if request.method == "POST" else request.GET)
        if not form.is_valid():
            messages.error(request, _("Condition d'invalidation incomplète ou invalide."))
            return redirect("admin:signatures_signature_sources")
        if request.method == "POST" and "confirm" in request.POST:
            data = form.cleaned_data
            count = decisions.invalidate_by_source(
                declaration=data["declaration"],
                source_field=data["field"],
                value=data["value"],
                start=data["start"],
                end=data["end"],
                actor=request.user,
                note=data["note"],
            )
            self.message_user(
                request,
                ngettext(
                    "%(count)d signature invalidée.", "%(count)d signatures invalidées.", count
                )
                % {"count": count},
                messages.SUCCESS,
            )
            return redirect(
                reverse("admin:signatures_signature_sources")
                + f"?declaration={data['declaration'].pk}&hours=24"
            )
        matching = form.matching().select_related("territory")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Invalider des signatures par source"),
            "opts": self.opts,
            "form": form,
            "count": matching.count(),
            "sample": matching[:50],
        }
        return TemplateResponse(request, "admin/signatures/invalidate.html", context)


@admin.register(ModerationQueue)
class ModerationQueueAdmin(SignatureAdminBase):
    """What awaits a decision: contested signatures first, then confirmed ones oldest
    first, then suspect ones kept aside silently."""

    list_filter = SignatureAdminBase.list_filter

    def get_queryset(self, request):
        # Not super(): ModelAdmin would order by `is_contested` before it is annotated.
        return (
            self.model._default_manager.awaiting_decision()
            .prefetch_related("flags", "networks")
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request):
        # "confirmed" sorts before "published" and "suspect": suspect ones come last.
        return ["-is_contested", "-has_correction", "status", "confirmed_at", "submitted_at", "pk"]


class NotificationFailedFilter(admin.SimpleListFilter):
    title = _("e-mail au signataire")
    parameter_name = "notification"

    def lookups(self, request, model_admin):
        return [("failed", _("Échec d'envoi")), ("sent", _("Envoyé"))]

    def queryset(self, request, queryset):
        if self.value() == "failed":
            return queryset.filter(notification_failed_at__isnull=False)
        if self.value() == "sent":
            return queryset.filter(notified_at__isnull=False)
        return queryset


@admin.register(ModerationEvent)
class ModerationEventAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "action",
        "signature",
        "actor",
        "from_status",
        "to_status",
        "reason",
        "notified_at",
        "notification_failed_at",
    ]
    list_filter = ["action", "reason", NotificationFailedFilter]
    list_select_related = ["signature__territory", "actor"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TerritoryDomain)
class TerritoryDomainAdmin(admin.ModelAdmin):
    """Email domains known to belong to a territory: their signatures rank "official domain"."""

    list_display = ["domain", "territory", "source", "created_at"]
    list_filter = ["source"]
    search_fields = ["domain", "territory__name", "territory__siren"]
    raw_id_fields = ["territory"]

    def save_model(self, request, obj, form, change):
        obj.domain = obj.domain.strip().lower()
        super().save_model(request, obj, form, change)
        # Signatures from this domain change level (and flags) now, not at their next event.
        for signature in Signature.objects.filter(email_domain=obj.domain).select_related(
            "territory"
        ):
            levels.refresh_proof(signature)
