from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from core.pagecache import cached_briefly

from .search import search_territories


@require_safe
@vary_on_headers("HX-Request")  # the same URL answers a fragment or a page
@cached_briefly(query=("q", "territory_query"))
def search(request):
    """Autocomplete options (htmx) or a plain results page (no JavaScript)."""
    query = request.GET.get("q") or request.GET.get("territory_query") or ""
    results = search_territories(query[:100])
    template = "territories/includes/options.html" if request.htmx else "territories/search.html"
    return render(request, template, {"query": query, "results": results})
