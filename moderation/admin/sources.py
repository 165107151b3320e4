"""Trending sources (many signatures from one IP hash, email domain or user agent in a
short window), and the invalidation of every signature from one of them."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from declarations.models import Declaration
from signatures.models import Signature

from .. import decisions
from .actions import report_count
from .forms import InvalidationForm, SourceForm

INVALIDATED = ngettext_lazy(
    "%(count)d signature invalidée.", "%(count)d signatures invalidées.", "count"
)


def _trending_tables(declaration, since, now) -> list[dict]:
    """One table per kind of source: its values with many signatures since `since`, each
    with the query that previews their invalidation."""
    tables = []
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
    return tables


class SourcesMixin:
    """The trending sources' page and the invalidation it leads to, for moderators."""

    def sources_view(self, request):
        """Sources with many signatures in a short window, per declaration."""
        if not self.has_moderate_permission(request):
            raise PermissionDenied
        form = SourceForm(request.GET or {"declaration": Declaration.objects.first(), "hours": 24})
        tables = []
        if form.is_valid():
            now = timezone.now()
            since = now - datetime.timedelta(hours=form.cleaned_data["hours"])
            tables = _trending_tables(form.cleaned_data["declaration"], since, now)
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
            return self._invalidate(request, form.cleaned_data)
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

    def _invalidate(self, request, data):
        count = decisions.invalidate_by_source(
            declaration=data["declaration"],
            source_field=data["field"],
            value=data["value"],
            start=data["start"],
            end=data["end"],
            actor=request.user,
            note=data["note"],
        )
        report_count(self, request, INVALIDATED, count, messages.SUCCESS)
        return redirect(
            reverse("admin:signatures_signature_sources")
            + f"?declaration={data['declaration'].pk}&hours=24"
        )
