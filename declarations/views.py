from django.conf import settings
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from core.pagecache import cached_with_counts

from .models import Declaration, DemandGroup, Founder


def _declarations_with_text():
    """Everything the page shows, in a fixed number of queries."""
    return Declaration.objects.prefetch_related(
        Prefetch("demand_groups", DemandGroup.objects.prefetch_related("demands")),
        Prefetch("founders", Founder.objects.all()),
        "initiators",
    )


@require_safe
def home(request):
    current = Declaration.objects.current()
    if current is None:
        raise Http404("Aucune déclaration publiée.")
    # Through detail: the page cache reads the counts' version before the page's data.
    return detail(request, slug=current.slug)


@require_safe
@cached_with_counts(query=())
def detail(request, slug):
    declaration = get_object_or_404(_declarations_with_text(), slug=slug)
    return _render_declaration(request, declaration)


@require_safe
def engagement(request, slug):
    """What signing commits a territory to: who signs, what follows, how to withdraw."""
    declaration = get_object_or_404(Declaration, slug=slug)
    return render(
        request,
        "declarations/engagement.html",
        {
            "declaration": declaration,
            "is_signable": declaration.is_signable(),
            "moderation_delay_days": settings.MODERATION_DELAY_DAYS,
        },
    )


def _render_declaration(request, declaration):
    return render(
        request,
        "declarations/detail.html",
        {"declaration": declaration, "is_signable": declaration.is_signable()},
    )
