import pytest
from django.urls import reverse

from declarations.models import Declaration
from tests.factories import DeclarationFactory, DemandFactory, FounderFactory

pytestmark = pytest.mark.django_db


def test_home_shows_the_current_declaration_in_french(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    assert "<h1" in html
    assert "Saisissons l&#x27;opportunité d&#x27;une nouvelle étape" in html
    assert "L&#x27;Alliance des territoires au service de la relance" in html
    assert "Signataires fondateurs" in html
    assert "Signer la déclaration" in html
    assert "Le 25 Mai 2020" in html


def test_declaration_page_shows_demands_with_bold_headings(client):
    declaration = Declaration.objects.get(slug="alliance-des-territoires")
    html = client.get(declaration.get_absolute_url()).content.decode()
    assert html.count("<strong>") >= 5 + 2  # five demands, two in the body
    assert "<strong>consolidation de l'Agenda rural français</strong>" in html
    assert "<strong>reconnaissance du fait urbain</strong>" in html
    assert "tant national qu&#x27;europpéen" in html  # the source's own spelling
    for name in ("Raymond VALL", "Jean-Luc MOUDENC", "Gérard PELTRE"):
        assert name in html
    assert "Président de Toulouse Métropole" in html


def test_declaration_page_shows_the_signature_counter(client):
    declaration = DeclarationFactory(signature_count=1234, signature_goal=2000)
    html = client.get(declaration.get_absolute_url()).content.decode()
    assert 'id="signature-count">1\xa0234<' in html
    assert "territoires signataires" in html
    assert 'value="62"' in html  # progress towards the goal, in percent


def test_declaration_page_has_open_graph_and_twitter_meta(client, declaration):
    html = client.get(declaration.get_absolute_url()).content.decode()
    title = declaration.title
    for meta in (
        '<meta name="description" content="Pour la coopération">',
        f'<meta property="og:title" content="{title}">',
        '<meta property="og:description" content="Pour la coopération">',
        '<meta property="og:type" content="website">',
        '<meta property="og:url" content="http://testserver/declarations/alliance-test/">',
        '<meta property="og:locale" content="fr_FR">',
        '<meta property="og:site_name" content="Alliance des territoires">',
        '<meta name="twitter:card" content="summary_large_image">',
        f'<meta name="twitter:title" content="{title}">',
        '<meta name="twitter:description" content="Pour la coopération">',
    ):
        assert meta in html
    assert 'href="/declarations/alliance-test/statistiques/">Statistiques</a>' in html


def test_declaration_page_without_subtitle_describes_itself_with_its_lead(client):
    declaration = DeclarationFactory(subtitle="", lead="Un chapeau qui résume le texte.")
    html = client.get(declaration.get_absolute_url()).content.decode()
    assert '<meta property="og:description" content="Un chapeau qui résume le texte.">' in html


def test_declaration_page_says_when_signatures_are_closed(client):
    declaration = DeclarationFactory(is_open=False)
    html = client.get(declaration.get_absolute_url()).content.decode()
    assert "Les signatures sont closes" in html


def test_declaration_page_of_an_unknown_slug_is_404(client):
    assert client.get("/declarations/nexiste-pas/").status_code == 404


def test_home_is_404_without_any_declaration(client):
    Declaration.objects.all().delete()
    assert client.get("/").status_code == 404


def test_declaration_page_sanitises_markup_in_the_text(client):
    declaration = DeclarationFactory(body="Texte <script>alert(1)</script> **fort**")
    html = client.get(declaration.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "<strong>fort</strong>" in html


@pytest.mark.parametrize("extra_demands", [1, 10])
def test_declaration_page_query_count_does_not_grow_with_demands(
    client, django_assert_num_queries, extra_demands
):
    declaration = DeclarationFactory()
    FounderFactory.create_batch(3, declaration=declaration)
    for _ in range(extra_demands):
        DemandFactory(group__declaration=declaration)
    # the counts' version (for the page cache; from the cache in production),
    # declaration, demand groups, demands, founders, initiators, latest signatories
    with django_assert_num_queries(7):
        response = client.get(declaration.get_absolute_url())
    assert response.status_code == 200


def test_english_interface_keeps_the_declaration_in_french(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True)
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Sign the declaration" in html
    assert "Founding signatories" in html
    # The text itself is shown as written, marked as French for screen readers.
    assert '<article class="declaration" lang="fr">' in html
    assert "Saisissons l&#x27;opportunité" in html
