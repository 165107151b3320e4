"""Public figures of a declaration: the statistics page and the embeddable counter.

Both read the counts snapshot (`stats_for`, one cache read), never the
signatures table, so they cost the same at 10 or 100,000 signatures.
"""

import html

from csp.decorators import csp_replace
from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from declarations.models import Declaration

from . import charts
from .stats import stats_for


@require_safe
def statistics(request, slug):
    """Counters, breakdowns, map and timeline, each chart followed by its table."""
    declaration = get_object_or_404(Declaration, slug=slug)
    stats = stats_for(declaration)
    return render(
        request,
        "signatures/statistics.html",
        {
            "declaration": declaration,
            "stats": stats,
            "goal_percent": charts.goal_percent(stats.total, declaration.signature_goal),
            "kind_chart": charts.kind_chart(stats.by_kind),
            "network_chart": charts.network_chart(stats.by_network),
            "region_chart": charts.region_chart(stats.by_region),
            "departement_map": charts.departement_map(stats.by_departement),
            "day_series": charts.day_series(stats.by_day),
            "embed_snippet": _embed_snippet(declaration),
        },
    )


def _embed_snippet(declaration: Declaration) -> str:
    """The <iframe> others paste on their site, pointing at the canonical address."""
    url = settings.SITE_URL + reverse("signatures:widget", args=[declaration.slug])
    title = f"{_('Compteur des signatures')} — {declaration.title}"
    # Only what would break the attribute is escaped, so the copied code stays readable.
    title = html.escape(title, quote=False).replace('"', "&quot;")
    return f'<iframe src="{url}" title="{title}" width="320" height="260" loading="lazy"></iframe>'


# The only page other sites may frame: it shows public counts and one link, no
# form and nothing a click could trigger, so clickjacking has nothing to take.
@require_safe
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})
@cache_control(public=True, max_age=60)
def widget(request, slug):
    """The counter card, for an <iframe> on any site."""
    declaration = get_object_or_404(Declaration, slug=slug)
    stats = stats_for(declaration)
    return render(
        request,
        "signatures/widget.html",
        {
            "declaration": declaration,
            "stats": stats,
            "goal_percent": charts.goal_percent(stats.total, declaration.signature_goal),
        },
    )
