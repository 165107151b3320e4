"""Moderation in the admin: queue, flags, decisions with reasons, audit trail, exports."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export import fields, resources
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ExportForm

from declarations.models import Declaration
from territories.models import Territory, TerritoryDomain

from . import deliberations, services
from .models import Contest, Correction, Flag, ModerationEvent, ModerationQueue, Signature
from .text import spreadsheet_safe

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

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class FlagInline(ReadOnlyInline):
    model = Flag
    fields = ["code", "detail", "created_at"]
    readonly_fields = fields


class ModerationEventInline(ReadOnlyInline):
    """The audit trail, shown and never editable."""

    model = ModerationEvent
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


class SignatureResource(resources.ModelResource):
    """Every field, with the territory spelt out, for CSV and XLSX exports.

    Every cell goes through spreadsheet_safe: a comment "=HYPERLINK(…)" must
    never become a live formula in the file that holds every email and phone.
    """

    territory_name = fields.Field(attribute="territory__name", column_name="territoire")
    territory_kind = fields.Field(column_name="type de territoire")
    territory_code = fields.Field(attribute="territory__code", column_name="code officiel")
    territory_siren = fields.Field(attribute="territory__siren", column_name="SIREN")
    departement = fields.Field(attribute="territory__departement__name", column_name="département")
    region = fields.Field(attribute="territory__region__name", column_name="région")
    population = fields.Field(attribute="territory__population", column_name="population")
    network_names = fields.Field(column_name="réseaux")
    flag_codes = fields.Field(column_name="signaux")

    class Meta:
        model = Signature
        exclude = ["networks", "signatory_search"]

    def dehydrate_territory_kind(self, signature):
        return signature.territory.get_kind_display()

    def dehydrate_network_names(self, signature):
        return signature.network_names

    def dehydrate_flag_codes(self, signature):
        return ", ".join(f.code for f in signature.flags.all())

    def export_field(self, field, instance, **kwargs):
        return spreadsheet_safe(super().export_field(field, instance, **kwargs))


class RejectForm(forms.Form):
    reason = forms.ChoiceField(label=_("Motif"), choices=ModerationEvent.Reason.choices)
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


@admin.display(description=_("signaux"))
def flag_list(signature):
    return ", ".join(str(flag) for flag in signature.flags.all()) or "—"


class SignatureAdminBase(admin.ModelAdmin):
    """Read-only rows; the status only changes through the moderation actions."""

    list_display = [
        "territory",
        "territory_kind",
        "territory_place",
        "signatory",
        "function_label",
        "email",
        "status",
        "verification",
        flag_list,
        "submitted_at",
        "confirmed_at",
    ]
    list_filter = [
        "status",
        "declaration",
        TerritoryKindFilter,
        RegionFilter,
        "networks",
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
    # The raw file field would link to a storage URL nothing serves: deliberation_link instead.
    exclude = ["networks", "deliberation"]
    readonly_fields = [
        "public_id",
        "verification",
        "deliberation_link",
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

    @admin.display(description=_("type"), ordering="territory__kind")
    def territory_kind(self, signature):
        return signature.territory.get_kind_display()

    @admin.display(description=_("département / région"))
    def territory_place(self, signature):
        territory = signature.territory
        parts = [t.name for t in (territory.departement, territory.region) if t]
        return " / ".join(dict.fromkeys(parts)) or "—"

    @admin.display(description=_("signataire"), ordering="last_name")
    def signatory(self, signature):
        return signature.full_name

    @admin.display(description=_("fonction"))
    def function_label(self, signature):
        return signature.function_label

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
        context = {
            **self.admin_site.each_context(request),
            "title": _("Refuser des signatures"),
            "opts": self.opts,
            "queryset": queryset.select_related("territory"),
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
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
            services.decide_correction(correction_id=pk, approve=approve, actor=request.user)
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
            services.renew_manage_link(signature_id=pk, actor=request.user)
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
            services.resend_link_for_moderator(signature_id=pk, actor=request.user)
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

    def _change_status(self, request, queryset, action, **decision):
        """Apply one decision to each signature; report what was done and what was refused."""
        done, not_allowed, taken = 0, 0, []
        for signature in queryset.select_related("territory"):
            try:
                services.change_status(
                    signature_id=signature.pk, action=action, actor=request.user, **decision
                )
                done += 1
            except services.InvalidTransition:
                not_allowed += 1
            except services.TerritoryAlreadySigned:
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
        ).filter(status__in=services.INVALIDATED_STATUSES)


@admin.register(Signature)
class SignatureAdmin(ExportMixin, SignatureAdminBase):
    resource_classes = [SignatureResource]
    export_formats = [CSV, XLSX]
    export_form_class = ExportForm  # every field, no per-field picking
    import_export_change_list_template = "admin/signatures/signature/change_list.html"

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
        ]
        return own + super().get_urls()

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
            count = services.invalidate_by_source(
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

    def init_request_context_data(self, request, form):
        # The export form posts back to this URL, keeping the changelist's filters.
        context = super().init_request_context_data(request, form)
        context["export_url"] = request.get_full_path()
        return context

    def get_export_queryset(self, request):
        return (
            super()
            .get_export_queryset(request)
            .select_related("territory__departement", "territory__region")
            .prefetch_related("networks", "flags")
        )


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
            services.refresh_proof(signature)
