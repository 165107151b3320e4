"""The signatory list as people use it (public.views.signatory_list and its poll):
filters applied by htmx, départements narrowed to the région, numbered pages, the
population when sorted by it, and counters that always agree with the rows."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from signatures.models import Signature
from signatures.stats import refresh_stats
from tests.factories import SignatureFactory, TerritoryFactory, bulk_signatures

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "signature-results"}


def _get(client, declaration, params=None, headers=None):
    url = reverse("public:list", args=[declaration.slug])
    return client.get(url, params or {}, headers=headers or {})


def _html(client, declaration, params=None, headers=None) -> str:
    return _get(client, declaration, params, headers).content.decode()


def _options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.DOTALL).group(0)
    return re.findall(r'<option value="([^"]*)"', select)


def _rows(html: str) -> int:
    return html.count('class="border-bottom py-2 signature-item"')


def _counter(html: str) -> int:
    block = html.split('id="signature-counters"', 1)[1]
    figure = re.search(r'<p class="display-6 fw-bold mb-0">([\d\xa0\u202f]+)</p>', block)
    return int(re.sub(r"\D", "", figure.group(1)))


def _poll_url(html: str) -> str:
    return (
        re.search(r'id="signature-poller" hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
    )


def _oob(html: str, target: str) -> str:
    return re.search(
        rf'<div hx-swap-oob="innerHTML:#{target}">(.*?)</div>', html, re.DOTALL
    ).group(1)


# Filters, with and without htmx.


def test_htmx_filter_change_answers_the_results_region_and_the_address_to_show(
    client, signed_declaration
):
    params = {"q": "", "kind": "", "region": "76", "departement": "", "sort": "recent"}
    response = _get(client, signed_declaration, params, HTMX)
    html = response.content.decode()
    assert "<html" not in html
    assert "<form" not in html  # the form stays, with the focus in it
    assert 'id="signature-counters"' in html
    assert _rows(html) == 1
    assert "Toulouse Métropole test" in html
    # Only the filters given, not the default order: the address is short and shareable.
    assert response["HX-Push-Url"] == "/declarations/alliance-test/signataires/?region=76"
    assert "HX-Request" in response["Vary"]
    # The new count, for the live region that stays in the page.
    assert _oob(html, "list-announcer").strip() == (
        "1 territoire signataire correspond à ces critères."
    )


def test_without_htmx_the_same_address_answers_the_whole_page(client, signed_declaration):
    html = _html(client, signed_declaration, {"region": "76"})
    assert html.startswith("<!doctype html>")
    assert 'hx-trigger="change, submit"' in html
    assert '<button type="submit" class="btn btn-primary">Filtrer</button>' in html
    assert 'hx-swap-oob="innerHTML:#list-announcer"' not in html
    assert '<p id="list-announcer" class="visually-hidden" aria-live="polite"' in html
    assert "js/signatory-list.js" in html


def test_going_back_in_history_gets_the_whole_page(client, signed_declaration):
    headers = {**HTMX, "HX-History-Restore-Request": "true"}
    html = _html(client, signed_declaration, {"region": "76"}, headers)
    assert html.startswith("<!doctype html>")
    assert '<option value="76" selected>Occitanie</option>' in html


# Départements narrowed to the région.


def test_departements_offered_are_those_of_the_chosen_region(client, signed_declaration):
    assert _options(_html(client, signed_declaration), "departement") == ["", "29", "31"]
    assert _options(_html(client, signed_declaration, {"region": "76"}), "departement") == [
        "",
        "31",
    ]
    assert _options(_html(client, signed_declaration, {"region": "53"}), "departement") == [
        "",
        "29",
    ]
    # An unknown région narrows nothing (and is ignored).
    unknown = _html(client, signed_declaration, {"region": "99"})
    assert _options(unknown, "departement") == ["", "29", "31"]


def test_a_departement_outside_the_region_is_ignored(client, signed_declaration):
    html = _html(client, signed_declaration, {"region": "76", "departement": "29"})
    assert _rows(html) == 1
    assert "Toulouse Métropole test" in html
    assert _options(html, "departement") == ["", "31"]
    assert "selected>31" not in html


def test_page_carries_every_departement_with_its_region_for_the_script(client, signed_declaration):
    html = _html(client, signed_declaration, {"region": "76"})
    template = re.search(r'<template id="departement-options">(.*?)</template>', html).group(1)
    assert re.findall(r'value="([^"]+)" data-region="([^"]*)"', template) == [
        ("29", "53"),
        ("31", "76"),
    ]


def test_a_collectivite_d_outre_mer_is_its_own_departement(client, declaration):
    com = TerritoryFactory(kind="com", code="975", name="Saint-Pierre-et-Miquelon")
    com.region = com.departement = com
    com.save()
    html = _html(client, declaration, {"region": "975"})
    assert _options(html, "departement") == ["", "975"]


# Numbered pages.


@pytest.fixture
def many(declaration):
    """420 published signatures: 9 pages of 50."""
    bulk_signatures(declaration, 420)
    refresh_stats(declaration_id=declaration.pk)
    return declaration


def _pagination(html: str) -> list[tuple[str, str, bool]]:
    nav = re.search(r'<nav aria-label="Pages de résultats">(.*?)</nav>', html, re.DOTALL).group(1)
    return [
        (re.sub(r"<[^>]+>", "", label).strip(), href.replace("&amp;", "&"), bool(current))
        for href, current, label in re.findall(
            r'<a class="page-link" href="([^"]+)"(?: rel="\w+")?( aria-current="page")?>(.*?)</a>',
            nav,
        )
    ]


def test_pagination_shows_first_previous_pages_around_next_and_last(client, many):
    html = _html(client, many, {"kind": "commune", "page": "5"})
    base = "/declarations/alliance-test/signataires/?kind=commune"
    assert _pagination(html) == [
        ("Première", f"{base}#signature-results", False),
        ("Précédente", f"{base}&page=4#signature-results", False),
        ("Page 3", f"{base}&page=3#signature-results", False),
        ("Page 4", f"{base}&page=4#signature-results", False),
        ("Page 5", f"{base}&page=5#signature-results", True),
        ("Page 6", f"{base}&page=6#signature-results", False),
        ("Page 7", f"{base}&page=7#signature-results", False),
        ("Suivante", f"{base}&page=6#signature-results", False),
        ("Dernière", f"{base}&page=9#signature-results", False),
    ]
    assert "Page 5 sur 9" in html
    assert html.count('aria-current="page"') == 1


def test_first_and_last_pages_leave_out_what_leads_nowhere(client, many):
    first = [label for label, _href, _current in _pagination(_html(client, many))]
    assert first == ["Page 1", "Page 2", "Page 3", "Suivante", "Dernière"]
    last = [label for label, _href, _current in _pagination(_html(client, many, {"page": 9}))]
    assert last == ["Première", "Précédente", "Page 7", "Page 8", "Page 9"]


def test_one_page_has_no_pagination(client, signed_declaration):
    assert "Pages de résultats" not in _html(client, signed_declaration)


def test_the_address_pushed_by_htmx_keeps_the_page(client, many):
    response = _get(client, many, {"page": "2", "sort": "nom"}, HTMX)
    assert response["HX-Push-Url"] == "/declarations/alliance-test/signataires/?sort=nom&page=2"


# Population when sorted by it.


def test_sorting_by_population_shows_each_rows_population(client, signed_declaration):
    html = _html(client, signed_declaration, {"sort": "population"})
    populations = re.findall(r'<span class="signature-population">· ([^<]+)</span>', html)
    assert populations == ["3\xa0000 habitants", "1\xa0500 habitants"]


def test_population_unknown_is_said_and_other_sorts_do_not_show_it(client, declaration):
    SignatureFactory(declaration=declaration, status="published")  # no population
    html = _html(client, declaration, {"sort": "population"})
    assert '<span class="signature-population">· population non renseignée</span>' in html
    assert "signature-population" not in _html(client, declaration, {"sort": "nom"})


# The counters agree with the rows.


@pytest.mark.parametrize(
    ("params", "rows"),
    [
        ({}, 2),
        ({"region": "76"}, 1),
        ({"departement": "29"}, 1),
        ({"q": "introuvable"}, 0),
        ({"network": "france-urbaine", "kind": "metropole"}, 1),
    ],
)
def test_counter_says_how_many_rows_the_filters_give(client, signed_declaration, params, rows):
    for headers in ({}, HTMX):
        html = _html(client, signed_declaration, params, headers)
        assert _rows(html) == rows
        assert _counter(html) == rows


def test_filtered_counter_says_of_how_many(client, signed_declaration):
    html = _html(client, signed_declaration, {"region": "76"})
    assert "territoire signataire correspond à ces critères" in html
    assert "sur 2 au total" in html
    unfiltered = _html(client, signed_declaration, {"sort": "nom"})  # sorting filters nothing
    assert "sur 2 au total" not in unfiltered
    assert '<p class="mb-0">territoires signataires</p>' in unfiltered


def test_counter_agrees_with_the_rows_before_the_snapshot_catches_up(client, signed_declaration):
    SignatureFactory(declaration=signed_declaration, status="published")  # counts not refreshed
    html = _html(client, signed_declaration)
    assert _rows(html) == 3
    assert _counter(html) == 3


def test_counter_counts_every_page_not_the_rows_of_this_one(client, many):
    html = _html(client, many, {"page": "9"})
    assert _rows(html) == 20
    assert _counter(html) == 420


def test_poll_adds_new_rows_on_top_and_counts_them(client, signed_declaration, refresh_counts):
    page = _html(client, signed_declaration, {"region": "76"})
    assert (_rows(page), _counter(page)) == (1, 1)
    occitanie = signed_declaration.signatures.get(territory__name="Toulouse Métropole test")
    new = TerritoryFactory(
        name="Nouvelle commune test", region=occitanie.territory.region, kind="commune"
    )
    SignatureFactory(declaration=signed_declaration, status="published", territory=new)
    SignatureFactory(declaration=signed_declaration, status="published")  # not in Occitanie
    refresh_counts(signed_declaration)
    answer = client.get(_poll_url(page)).content.decode()
    assert _rows(answer) == 1
    assert "Nouvelle commune test" in answer
    assert _counter(answer) == 2  # the row on screen plus the new one, not the 4 published
    assert "sur 4 au total" in answer
    assert "Une nouvelle signature en tête de liste." in _oob(answer, "list-announcer")
    assert _oob(answer, "list-notice") == ""
    # The next question starts from there: nothing new, the same counts.
    following = client.get(_poll_url(answer)).content.decode()
    assert _rows(following) == 0
    assert _counter(following) == 2


def test_poll_replaces_the_empty_message_when_the_first_row_arrives(
    client, declaration, refresh_counts
):
    page = _html(client, declaration)
    assert 'id="signature-list-empty"' in page
    SignatureFactory(declaration=declaration, status="published")
    refresh_counts(declaration)
    answer = client.get(_poll_url(page)).content.decode()
    assert '<li id="signature-list-empty" hx-swap-oob="delete"></li>' in answer
    assert _counter(answer) == 1


def test_poll_after_a_withdrawal_leaves_list_and_counters_and_offers_to_reload(
    client, signed_declaration, refresh_counts
):
    page = _html(client, signed_declaration, {"kind": "commune"})
    Signature.objects.filter(territory__name="Brest test").update(status="withdrawn")
    refresh_counts(signed_declaration)
    answer = client.get(_poll_url(page)).content.decode()
    assert 'id="signature-counters"' not in answer  # the counter still matches the rows shown
    notice = _oob(answer, "list-notice")
    assert "La liste a changé depuis son affichage : 0 territoires signataires correspondent" in (
        notice
    )
    assert 'href="/declarations/alliance-test/signataires/?kind=commune"' in notice
    assert "La liste a changé" in _oob(answer, "list-announcer")
    assert _poll_url(answer) == _poll_url(page)  # the same question until the page reloads


def test_poll_in_another_order_offers_to_reload_rather_than_misplace_rows(
    client, signed_declaration, refresh_counts
):
    page = _html(client, signed_declaration, {"sort": "nom"})
    assert "vu=2" in _poll_url(page)
    SignatureFactory(declaration=signed_declaration, status="published")
    refresh_counts(signed_declaration)
    answer = client.get(_poll_url(page)).content.decode()
    assert _rows(answer) == 0
    assert 'id="signature-counters"' not in answer
    assert "3 territoires signataires correspondent maintenant à ces critères" in answer
    assert 'href="/declarations/alliance-test/signataires/?sort=nom"' in answer


def test_poll_in_another_order_says_nothing_while_nothing_changed(client, signed_declaration):
    page = _html(client, signed_declaration, {"sort": "population"})
    answer = client.get(_poll_url(page)).content.decode()
    assert _oob(answer, "list-notice") == ""
    assert _oob(answer, "list-announcer") == ""


# The cost does not grow with the data.


LIST_REQUESTS = {
    "page": ({}, {}),
    "filtered": ({"region": "RBULK", "kind": "commune", "sort": "population"}, {}),
    "page-3": ({"page": "3", "departement": "DBULK"}, {}),
    "htmx": ({"region": "RBULK", "network": "red"}, HTMX),
}


@pytest.mark.parametrize("request_name", LIST_REQUESTS)
def test_list_costs_the_same_at_120_and_3000_signatures(client, declaration, request_name):
    params, headers = LIST_REQUESTS[request_name]

    def queries() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = _get(client, declaration, params, headers)
        assert response.status_code == 200
        return len(captured)

    bulk_signatures(declaration, 120)
    refresh_stats(declaration_id=declaration.pk)
    small = queries()
    bulk_signatures(declaration, 2880, start=120)
    refresh_stats(declaration_id=declaration.pk)
    assert queries() == small
    # the counts' version and the snapshot (cache cleared); declaration; régions,
    # départements and networks for the form; count; the page; its networks; the
    # unfiltered total when filtered.
    assert small == (9 if request_name == "page" else 10)


@pytest.mark.parametrize("sort", ["recent", "nom"])
def test_poll_costs_the_same_at_120_and_3000_signatures(client, declaration, sort):
    stale = reverse("public:list_updates", args=[declaration.slug])
    # An old page's poll: everything is news, more than a page of it, so never in step.
    stale += f"?region=RBULK&sort={sort}&depuis=1&vu=3"

    def queries() -> tuple[int, int]:
        current = _poll_url(_html(client, declaration, {"region": "RBULK", "sort": sort}))
        counts = []
        for url in (stale, current):
            cache.clear()
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured))
        return tuple(counts)

    bulk_signatures(declaration, 120)
    refresh_stats(declaration_id=declaration.pk)
    small = queries()
    bulk_signatures(declaration, 2880, start=120)
    refresh_stats(declaration_id=declaration.pk)
    assert queries() == small
