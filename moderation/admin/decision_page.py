"""The decisions on a signature's page: each posts to the admin's decide view, which takes
the list's code path (StatusActionsMixin._decide) for that one signature."""

from django.contrib import messages
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from signatures import services
from signatures.models import ModerationEvent

from .forms import RejectForm

Action = ModerationEvent.Action

# The decisions a signature's page offers, in this order, when its status allows them
# (services.TRANSITIONS): the rest stays in the list's action menu.
PAGE_DECISIONS = (Action.APPROVE, Action.RELEASE, Action.REJECT)
DONE_MESSAGES = {
    Action.APPROVE: _(
        "Signature publiée pour %(territory)s ; le signataire est prévenu par e-mail."
    ),
    Action.REJECT: _(
        "Signature refusée pour %(territory)s ; le signataire reçoit le motif par e-mail."
    ),
    Action.RELEASE: _(
        "Signature libérée pour %(territory)s ; le lien de confirmation est envoyé au signataire."
    ),
}
TAKEN_MESSAGE = _("Décision refusée : %(territory)s a déjà une signature publiée ou confirmée.")
# The status allows it, the service still refused: a released suspect would duplicate
# the pending signature its address already has for the territory.
DUPLICATE_MESSAGE = _(
    "Décision impossible : la même adresse a déjà une signature en attente de confirmation "
    "pour ce territoire."
)
STATUS_MESSAGE = _(
    "Décision impossible : le statut de la signature (%(status)s) ne le permet pas."
)


class DecisionPageMixin:
    """A signature's page with the decisions this moderator may take on it, and the view
    they post to. Needs StatusActionsMixin (_decide, _reject_page) and
    has_moderate_permission."""

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
        signature = self._signature_to_decide(request, object_id)
        action = request.POST.get("decision")
        if action not in PAGE_DECISIONS:
            return HttpResponseBadRequest()
        decision = {}
        if action == Action.REJECT:
            form = RejectForm(request.POST, prefix="reject")
            if not form.is_valid():
                title = _("Refuser la signature « %(territory)s »")
                return self._reject_page(
                    request,
                    form,
                    [signature],
                    title=title % {"territory": signature.territory.name},
                    **self._asked_again(request, signature),
                )
            decision = form.cleaned_data
        outcome = self._decide(request, signature, action, **decision)
        self._report_page_decision(request, signature, action, outcome)
        if self.get_queryset(request).filter(pk=signature.pk).exists():
            return redirect(self._page_url(request, signature))
        # Decided, it left this list (the queue): back to what is left to decide.
        return redirect(self._preserving_filters(request, f"admin:{self._url_prefix}_changelist"))

    def _signature_to_decide(self, request, object_id):
        """The signature of a page's decision, once this moderator may decide on it."""
        if not self.has_moderate_permission(request):
            raise PermissionDenied
        signature = self.get_object(request, unquote(object_id))
        if signature is None:
            raise Http404
        if not self.has_view_permission(request, signature):
            raise PermissionDenied
        return signature

    def _asked_again(self, request, signature) -> dict:
        """Where a page's incomplete refusal, asked again, posts and goes back to."""
        return {
            "cancel_url": self._page_url(request, signature),
            "decide_url": request.get_full_path(),
        }

    def _page_url(self, request, signature) -> str:
        return self._preserving_filters(request, f"admin:{self._url_prefix}_change", signature.pk)

    def _preserving_filters(self, request, name, *args) -> str:
        """The URL, keeping the list's filters the moderator came with."""
        context = {"opts": self.opts, "preserved_filters": self.get_preserved_filters(request)}
        return add_preserved_filters(context, reverse(name, args=args))

    def _report_page_decision(self, request, signature, action, outcome) -> None:
        territory = signature.territory.name
        if outcome == "taken":
            self.message_user(request, TAKEN_MESSAGE % {"territory": territory}, messages.ERROR)
        elif outcome == "not_allowed":
            signature.refresh_from_db(fields=["status"])
            if signature.status in services.TRANSITIONS[action][0]:
                message = DUPLICATE_MESSAGE
            else:
                message = STATUS_MESSAGE % {"status": signature.get_status_display()}
            self.message_user(request, message, messages.ERROR)
        else:
            message = DONE_MESSAGES[action] % {"territory": territory}
            self.message_user(request, message, messages.SUCCESS)
