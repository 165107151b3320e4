"""What moderators decide about signatures' deliberations: accepted or refused after
they read them (from the list's actions or a signature's page), shown publicly or kept
private."""

from django.contrib import admin
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from signatures.models import Signature
from signatures.proof import deliberations

from .actions import for_each_signature, reason_page, report_count
from .forms import DeliberationRefusalForm

Review = Signature.DeliberationReview
# A signature page's review decisions, by the value its buttons post.
OUTCOMES = {"accept_deliberation": Review.ACCEPTED, "refuse_deliberation": Review.REFUSED}

ACCEPTED = ngettext_lazy(
    "%(count)d délibération acceptée.", "%(count)d délibérations acceptées.", "count"
)
REFUSED = ngettext_lazy(
    "%(count)d délibération refusée ; le signataire reçoit le motif par e-mail.",
    "%(count)d délibérations refusées ; les signataires reçoivent le motif par e-mail.",
    "count",
)
MADE_PUBLIC = ngettext_lazy(
    "%(count)d délibération rendue publique.",
    "%(count)d délibérations rendues publiques.",
    "count",
)
MADE_PRIVATE = ngettext_lazy(
    "%(count)d délibération rendue privée.", "%(count)d délibérations rendues privées.", "count"
)


def _refusal_page(model_admin, request, form, signatures, **context):
    """The reason and note to refuse these signatures' deliberations with."""
    return reason_page(
        model_admin,
        request,
        form,
        signatures,
        template="admin/signatures/refuse_deliberation.html",
        action="refuse_deliberation",
        **context,
    )


class DeliberationActionsMixin:
    """What moderators decide about the deliberations signatories attached. Signatures
    without one, or already so, are left as they are and not counted."""

    @admin.action(description=_("Accepter la délibération"), permissions=["moderate"])
    def accept_deliberation(self, request, queryset):
        accepted = self._for_each_deliberation(
            request, queryset, deliberations.review_deliberation, outcome=Review.ACCEPTED
        )
        report_count(self, request, ACCEPTED, accepted)

    @admin.action(
        description=_("Refuser la délibération (avec un motif)…"), permissions=["moderate"]
    )
    def refuse_deliberation(self, request, queryset):
        form = DeliberationRefusalForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return _refusal_page(
                self,
                request,
                form,
                queryset.exclude(deliberation="").select_related("territory"),
                title=_("Refuser des délibérations"),
                cancel_url=reverse(f"admin:{self._url_prefix}_changelist"),
            )
        refused = self._for_each_deliberation(
            request,
            queryset,
            deliberations.review_deliberation,
            outcome=Review.REFUSED,
            **form.cleaned_data,
        )
        report_count(self, request, REFUSED, refused)
        return None

    @admin.action(description=_("Rendre la délibération publique"), permissions=["moderate"])
    def make_deliberation_public(self, request, queryset):
        changed = self._for_each_deliberation(
            request, queryset, deliberations.set_deliberation_public, is_public=True
        )
        report_count(self, request, MADE_PUBLIC, changed)

    @admin.action(description=_("Rendre la délibération privée"), permissions=["moderate"])
    def make_deliberation_private(self, request, queryset):
        changed = self._for_each_deliberation(
            request, queryset, deliberations.set_deliberation_public, is_public=False
        )
        report_count(self, request, MADE_PRIVATE, changed)

    def _for_each_deliberation(self, request, queryset, service, **arguments) -> int:
        """How many of the selected deliberations `service`, acting for this moderator,
        changed."""
        with_one = queryset.exclude(deliberation="")
        return sum(for_each_signature(with_one, service, actor=request.user, **arguments))


class DeliberationPageMixin:
    """A signature's page offers its deliberation's review, posting to a view of its own.
    Needs DecisionPageMixin (_signature_to_decide, _asked_again, _page_url,
    _preserving_filters)."""

    def get_urls(self):
        review = path(
            "<path:object_id>/deliberation/",
            self.admin_site.admin_view(self.review_deliberation_view),
            name=f"{self._url_prefix}_review_deliberation",
        )
        return [review, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        url = f"admin:{self._url_prefix}_review_deliberation"
        context = {
            **(extra_context or {}),
            "review_deliberation_url": self._preserving_filters(request, url, object_id),
            "refusal_form": DeliberationRefusalForm(prefix="refusal"),
        }
        return super().change_view(request, object_id, form_url, context)

    def review_deliberation_view(self, request, object_id):
        """Accept the page's deliberation, or refuse it once its reason is complete."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        signature = self._signature_to_decide(request, object_id)
        outcome = OUTCOMES.get(request.POST.get("decision"))
        if outcome is None:
            return HttpResponseBadRequest()
        refusal = {}
        if outcome == Review.REFUSED:
            form = DeliberationRefusalForm(request.POST, prefix="refusal")
            if not form.is_valid():
                title = _("Refuser la délibération de « %(territory)s »")
                return _refusal_page(
                    self,
                    request,
                    form,
                    [signature],
                    title=title % {"territory": signature.territory.name},
                    **self._asked_again(request, signature),
                )
            refusal = form.cleaned_data
        changed = deliberations.review_deliberation(
            signature_id=signature.pk, outcome=outcome, actor=request.user, **refusal
        )
        message = ACCEPTED if outcome == Review.ACCEPTED else REFUSED
        report_count(self, request, message, int(changed))
        return redirect(self._page_url(request, signature))
