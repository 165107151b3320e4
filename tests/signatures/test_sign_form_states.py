"""What the signing form shows, and keeps in sight, before and after a submission:
the moderation delay, the "other function" field, the "not listed" panel, and what the
confirmation page says when another signature competes for the same territory."""

import re

import pytest
from django.urls import reverse

from signatures.models import Signature
from territories.models import Territory
from tests.factories import (
    DeclarationFactory,
    SignatureFactory,
    TerritoryFactory,
    fake_siren,
    signature_form_data,
    unlisted_territory_data,
)

pytestmark = pytest.mark.django_db

CONFLICT = (
    "Vous avez choisi un territoire dans la liste et rempli aussi « Mon territoire n'est "
    "pas dans la liste »."
)


def _sign_url(declaration) -> str:
    return reverse("signatures:sign", args=[declaration.slug])


def _sign(client, declaration, **data):
    return client.post(_sign_url(declaration), signature_form_data(**data))


def _text(response) -> str:
    """The page as read: tags dropped, entities of apostrophes undone, spaces folded."""
    html = response.content.decode()
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#x27;", "'").split())


def _tag(html: str, element_id: str) -> str:
    """The opening tag of the element with this id."""
    return re.search(rf'<[a-z]+\b[^>]*\bid="{element_id}"[^>]*>', html).group(0)


def _departement():
    return TerritoryFactory(kind="departement", code="X31", name="Département test")


# The moderation delay, before and after signing


def test_sign_page_states_the_moderation_delay_before_signing(client, declaration, settings):
    settings.MODERATION_DELAY_DAYS = 9
    text = _text(client.get(_sign_url(declaration)))
    assert (
        "Un modérateur des réseaux de l'Alliance vérifie chaque signature dans un délai de "
        "9 jours ; elle est publiée après cette vérification" in text
    )
    # Before the fields: read before signing, not after.
    assert text.index("dans un délai de 9 jours") < text.index("Rechercher votre territoire")


def test_sign_page_says_one_day_in_the_singular(client, declaration, settings):
    settings.MODERATION_DELAY_DAYS = 1
    text = _text(client.get(_sign_url(declaration)))
    assert "dans un délai de 1 jour ; elle est publiée" in text


def test_sign_page_of_a_post_moderated_declaration_says_publication_comes_first(client, settings):
    settings.MODERATION_DELAY_DAYS = 3
    declaration = DeclarationFactory(moderation="post")
    text = _text(client.get(_sign_url(declaration)))
    assert "La signature est publiée dès sa confirmation." in text
    assert "la vérifie dans un délai de 3 jours et la retire" in text
    assert "elle est publiée après cette vérification" not in text


def test_inbox_page_states_the_moderation_delay_after_signing(
    client, declaration, territory, settings
):
    settings.MODERATION_DELAY_DAYS = 7
    response = _sign(client, declaration, territory=territory.pk)
    text = _text(client.get(response["Location"]))
    assert "Vérifiez votre messagerie" in text
    assert (
        "Une fois confirmée, votre signature est vérifiée par un modérateur avant d'être "
        "publiée, en général sous 7 jours." in text
    )


def test_inbox_page_of_a_post_moderated_declaration_says_publication_comes_first(client, settings):
    settings.MODERATION_DELAY_DAYS = 2
    declaration = DeclarationFactory(moderation="post")
    text = _text(client.get(reverse("signatures:check_inbox", args=[declaration.slug])))
    assert "La signature est publiée dès sa confirmation." in text
    assert "la vérifie dans un délai de 2 jours et la retire" in text


# "Autre fonction : précisez laquelle"


def test_other_function_field_is_labelled_for_its_option_and_never_hidden_by_the_server(
    client, declaration
):
    html = client.get(_sign_url(declaration)).content.decode()
    assert re.search(
        r'<label\s+for="id_function_other"[^>]*>\s*Autre fonction : précisez laquelle\s*<', html
    )
    wrapper = _tag(html, "function-other")
    assert 'data-shown-for="autre"' in wrapper
    assert "hidden" not in wrapper  # only the script hides it: without it, it shows
    assert "js/sign-form.js" in html


def test_other_function_wording_is_kept_after_an_error_whatever_function_is_chosen(
    client, declaration, territory
):
    response = _sign(
        client,
        declaration,
        territory=territory.pk,
        function="maire",
        function_other="Déléguée au climat",
        email="pas-une-adresse",
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'value="Déléguée au climat"' in html
    assert "hidden" not in _tag(html, "function-other")


def test_other_function_without_its_wording_is_refused_next_to_the_field(
    client, declaration, territory
):
    response = _sign(client, declaration, territory=territory.pk, function="autre")
    html = response.content.decode()
    assert response.status_code == 400
    assert 'aria-describedby="id_function_other_error"' in html
    assert "Précisez votre fonction." in html
    assert Signature.objects.count() == 0


def test_other_function_wording_is_dropped_for_a_listed_function(client, declaration, territory):
    _sign(client, declaration, territory=territory.pk, function_other="Déléguée")
    assert Signature.objects.get().function_other == ""


# The "not listed" panel: filling it or opening it is the choice, no box to tick


def test_filling_the_unlisted_panel_without_ticking_anything_signs_for_that_territory(
    client, declaration
):
    data = unlisted_territory_data(
        name="PETR du Pays Test", siren=fake_siren(501), departement=_departement()
    )
    del data["not_listed"]  # what people did: open the panel, fill it, never tick the box
    response = _sign(client, declaration, **data)
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.territory.name == "PETR du Pays Test"
    assert signature.territory.siren == fake_siren(501)
    assert not signature.territory.is_active


def test_one_field_of_the_unlisted_panel_is_enough_to_ask_for_the_others(client, declaration):
    response = _sign(client, declaration, unlisted_name="PETR du Pays Test")
    html = response.content.decode()
    assert response.status_code == 400
    assert '<details class="mt-3" id="unlisted-territory" open>' in html
    assert 'value="PETR du Pays Test"' in html
    for message in (
        "Choisissez le type de territoire.",
        "Indiquez le SIREN du territoire.",
        "Choisissez le département.",
    ):
        assert message in html
    assert "Choisissez votre territoire dans la liste" not in html


def test_the_open_panel_alone_is_the_choice_when_no_territory_is_chosen(client, declaration):
    """not_listed is what sign-form.js sends while the panel is open."""
    response = _sign(client, declaration, not_listed="on")
    html = response.content.decode()
    assert response.status_code == 400
    assert '<details class="mt-3" id="unlisted-territory" open>' in html
    assert "Indiquez le nom du territoire." in html
    assert "Choisissez votre territoire dans la liste" not in html


def test_an_open_but_empty_panel_does_not_override_a_chosen_territory(
    client, declaration, territory
):
    response = _sign(client, declaration, territory=territory.pk, not_listed="on")
    assert response.status_code == 302
    assert Signature.objects.get().territory == territory


def test_a_listed_territory_and_a_filled_panel_are_refused_next_to_the_territory_keeping_both(
    client, declaration, territory
):
    data = unlisted_territory_data(
        name="PETR du Pays Test", siren=fake_siren(502), departement=_departement()
    )
    response = _sign(
        client, declaration, territory=territory.pk, territory_query="testville", **data
    )
    html = response.content.decode()
    text = _text(response)
    assert response.status_code == 400
    error = re.search(r'<div id="territory-errors"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert CONFLICT in error.replace("&#x27;", "'")
    assert "Gardez l'un des deux" in text
    combobox = _tag(html, "id_territory_query")
    assert 'aria-invalid="true"' in combobox
    assert "territory-errors" in combobox
    # Nothing typed is folded away or lost: the panel is open with its values, the
    # territory still ticked (without JavaScript), with a way to untick it.
    assert '<details class="mt-3" id="unlisted-territory" open>' in html
    assert 'value="PETR du Pays Test"' in html
    assert f'value="{fake_siren(502)}"' in html
    assert f'value="{territory.pk}" data-name="Métropole de Testville" checked' in html
    assert 'name="action" value="forget_territory"' in html
    assert Signature.objects.count() == 0
    assert not Territory.objects.filter(name="PETR du Pays Test").exists()


def test_forgetting_the_chosen_territory_without_javascript_keeps_everything_else(
    client, declaration, territory
):
    response = _sign(
        client,
        declaration,
        action="forget_territory",
        territory=territory.pk,
        territory_query="testville",
        unlisted_name="PETR du Pays Test",
        comment="Gardé",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="territory-{territory.pk}"' in html  # still among the results…
    assert f'value="{territory.pk}" data-name="Métropole de Testville" checked' not in html
    assert 'value="forget_territory"' not in html  # …no longer chosen
    assert 'value="PETR du Pays Test"' in html
    assert "Gardé</textarea>" in html
    assert "is-invalid" not in html  # judging waits for the real submission
    assert Signature.objects.count() == 0


def test_the_panel_stays_closed_when_nothing_was_put_in_it(client, declaration, territory):
    response = _sign(client, declaration, territory=territory.pk, email="x")
    html = response.content.decode()
    assert response.status_code == 400
    assert _tag(html, "unlisted-territory") == '<details class="mt-3" id="unlisted-territory">'


def test_the_no_javascript_search_keeps_the_panel_open_with_what_was_typed(client, declaration):
    response = _sign(
        client, declaration, action="search", territory_query="pays", unlisted_name="Pays Test"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert '<details class="mt-3" id="unlisted-territory" open>' in html
    assert 'value="Pays Test"' in html


# Signing on behalf: the folded section opens whenever it holds something


def test_on_behalf_section_opens_after_an_error_when_one_of_its_fields_was_filled(
    client, declaration, territory
):
    # "Moi-même" still ticked, but the filler's function typed: never folded away.
    response = _sign(
        client,
        declaration,
        territory=territory.pk,
        filler_function="Directrice de cabinet",
        email="x",
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert _tag(html, "on-behalf") == '<details class="mb-3" id="on-behalf" open>'
    assert 'value="Directrice de cabinet"' in html


def test_on_behalf_section_stays_closed_when_empty_and_signing_oneself(
    client, declaration, territory
):
    response = _sign(client, declaration, territory=territory.pk, email="x")
    assert _tag(response.content.decode(), "on-behalf") == '<details class="mb-3" id="on-behalf">'


# The confirmation page tells of a competing signature before its button


def _confirm_page(client, signature):
    return client.get(reverse("signatures:confirm", args=[signature.make_confirmation_token()]))


def _before_the_button(response) -> str:
    text = _text(response)
    button = text.index("Je confirme la signature de mon territoire")
    return text[:button]


def test_confirm_page_says_nothing_when_no_other_signature_competes(
    client, declaration, territory
):
    mine = SignatureFactory(declaration=declaration, territory=territory)
    SignatureFactory(territory=territory, status="confirmed")  # another declaration
    SignatureFactory(declaration=declaration, status="pending")  # another territory
    response = _confirm_page(client, mine)
    assert response.status_code == 200
    assert 'id="territory-rivals"' not in response.content.decode()


def test_confirm_page_tells_of_another_pending_signature_before_the_button(
    client, declaration, territory
):
    mine = SignatureFactory(declaration=declaration, territory=territory)
    SignatureFactory(
        declaration=declaration,
        territory=territory,
        email="autre.personne@secret.fr",
        last_name="Secretnom",
    )
    response = _confirm_page(client, mine)
    before = _before_the_button(response)
    assert response.status_code == 200
    assert "Une autre signature attend pour ce territoire" in before
    assert "Une autre signature a été envoyée pour ce territoire" in before
    assert "la première signature confirmée est retenue" in before
    html = response.content.decode()
    assert "autre.personne" not in html
    assert "Secretnom" not in html
    mine.refresh_from_db()
    assert mine.status == Signature.Status.PENDING  # GET changes nothing


def test_confirm_page_counts_several_pending_signatures(client, declaration, territory):
    mine = SignatureFactory(declaration=declaration, territory=territory)
    for _ in range(2):
        SignatureFactory(declaration=declaration, territory=territory)
    before = _before_the_button(_confirm_page(client, mine))
    assert "2 autres signatures ont été envoyées pour ce territoire" in before


def test_confirm_page_tells_of_a_signature_awaiting_moderation_without_naming_anyone(
    client, declaration, territory
):
    mine = SignatureFactory(declaration=declaration, territory=territory)
    SignatureFactory(
        declaration=declaration,
        territory=territory,
        status="confirmed",
        email="premier@secret.fr",
        last_name="Secretnom",
    )
    response = _confirm_page(client, mine)
    before = _before_the_button(response)
    assert "Ce territoire a déjà une signature confirmée" in before
    assert "Métropole de Testville a déjà signé la déclaration le" in before
    assert "la signature est en cours de vérification" in before
    assert "ne pourra être confirmée que si celle-ci est refusée ou retirée" in before
    html = response.content.decode()
    assert "premier@secret.fr" not in html
    assert "Secretnom" not in html


def test_confirm_page_names_a_published_rival_by_its_public_name_only(
    client, declaration, territory
):
    mine = SignatureFactory(declaration=declaration, territory=territory)
    rival = SignatureFactory(
        declaration=declaration,
        territory=territory,
        status="published",
        email="publie@secret.fr",
        last_name="Publicnom",
    )
    response = _confirm_page(client, mine)
    before = _before_the_button(response)
    assert "par Dominique Publicnom" in before
    html = response.content.decode()
    assert reverse("signatures:contest", kwargs={"public_id": rival.public_id}) in html
    assert "publie@secret.fr" not in html


def test_confirming_after_the_warning_still_refuses_the_second_signature(
    client, declaration, territory
):
    """What the page warned of is what the POST does."""
    mine = SignatureFactory(declaration=declaration, territory=territory)
    SignatureFactory(declaration=declaration, territory=territory, status="confirmed")
    token = mine.make_confirmation_token()
    response = client.post(reverse("signatures:confirm", args=[token]))
    assert response.status_code == 409
    assert "Ce territoire a déjà signé" in _text(response)
    mine.refresh_from_db()
    assert mine.status == Signature.Status.PENDING
