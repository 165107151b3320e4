"""The pages every French public site owes (public.pages): privacy notice, legal notice,
accessibility statement, contact form; and the footer that links to them."""

import re
from html import unescape

import pytest
from django.urls import reverse

from public import tasks
from signatures.models import OutgoingEmail

pytestmark = pytest.mark.django_db

CONTACT = "contact@alliance.example.org"  # as the contact_settings fixture sets it


def _text(response) -> str:
    """The page's text, tags dropped and whitespace folded, for assertions on sentences."""
    html = response.content.decode()
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def legal_settings(settings):
    settings.PUBLISHER_NAME = "Association Alliance test"
    settings.PUBLISHER_ADDRESS = "22 rue Joubert, 75009 Paris"
    settings.PUBLICATION_DIRECTOR = "Camille Directrice"
    settings.HOST_NAME = "Hébergeur Exemple SAS"
    settings.HOST_ADDRESS = "1 rue de l'Hébergement, 59000 Lille"
    settings.CONTACT_EMAIL = CONTACT
    settings.PRIVACY_EMAIL = "dpo@alliance.example.org"
    return settings


def _contact(client, **fields):
    data = {
        "name": "Camille Durand",
        "email": "camille.durand@mairie-test.fr",
        "subject": "signature",
        "message": "Bonjour,\nnotre signature porte une faute de frappe.",
        "website": "",
        **fields,
    }
    return client.post(reverse("public:contact"), data)


# Privacy notice


def test_privacy_page_names_the_controller_and_the_retention_periods(client, legal_settings):
    legal_settings.RETENTION_UNCONFIRMED_DAYS = 11
    legal_settings.RETENTION_SOURCE_DAYS = 22
    legal_settings.RETENTION_ENDED_DAYS = 33
    legal_settings.RETENTION_AFTER_CLOSE_DAYS = 444
    response = client.get(reverse("public:privacy"))
    text = _text(response)
    assert response.status_code == 200
    assert "Confidentialité et données personnelles" in text
    assert "Association Alliance test" in text
    assert "22 rue Joubert, 75009 Paris" in text
    assert "Signatures jamais confirmées : supprimées après 11 jours." in text
    assert "Adresse IP et navigateur : effacés 22 jours après l'envoi du formulaire." in text
    assert "les données personnelles sont effacées 33 jours après le retrait ou le refus" in text
    assert "effacés 444 jours après la clôture des signatures de la déclaration" in text
    assert (
        "Signatures publiées : tant que la déclaration est présentée sur ce site, jusqu'à leur "
        "retrait, et au plus 444 jours après la clôture des signatures." in text
    )


def test_privacy_page_says_what_is_public_who_receives_it_and_on_what_basis(
    client, legal_settings
):
    text = _text(client.get(reverse("public:privacy")))
    assert "consentement (article 6, paragraphe 1, point a du RGPD)" in text
    assert "intérêt légitime" in text
    assert "le nom, le prénom et la fonction du ou de la signataire, les réseaux cochés" in text
    assert (
        "Ne sont jamais publiés : votre adresse e-mail, votre téléphone, votre adresse IP et "
        "votre navigateur" in text
    )
    assert "L'hébergeur du site, qui stocke les données pour notre compte : Hébergeur" in text
    assert "ANPP, France urbaine, R.E.D." in text
    assert "seulement si vous avez coché la case" in text  # news only with consent


def test_privacy_page_explains_how_to_exercise_rights(client, legal_settings):
    response = client.get(reverse("public:privacy"))
    html, text = response.content.decode(), _text(response)
    for right in ("accéder", "rectifier", "effacer", "retirer votre consentement"):
        assert right in text
    assert "portabilité" in text
    assert "vous opposer" in text
    assert f'href="{reverse("signatures:manage_request")}"' in html
    assert 'href="mailto:dpo@alliance.example.org"' in html
    assert 'href="https://www.cnil.fr/fr/plaintes"' in html


def test_privacy_page_lists_only_necessary_cookies(client, legal_settings):
    text = _text(client.get(reverse("public:privacy")))
    assert "un cookie de session" in text
    assert "un cookie de sécurité (CSRF)" in text
    assert "Aucun cookie de mesure d'audience, de publicité ou de suivi" in text
    assert "aucun script de tiers" in text


def test_privacy_page_falls_back_to_the_contact_address(client, settings):
    settings.PRIVACY_EMAIL = ""
    settings.CONTACT_EMAIL = CONTACT
    html = client.get(reverse("public:privacy")).content.decode()
    assert f'href="mailto:{CONTACT}"' in html


def test_privacy_page_without_any_address_says_so(client, settings):
    settings.PRIVACY_EMAIL = settings.CONTACT_EMAIL = settings.HOST_NAME = ""
    text = _text(client.get(reverse("public:privacy")))
    assert "Contact pour vos données : non renseigné" in text
    assert "pour notre compte : non renseigné." in text
    assert "mailto:" not in text


# Legal notice


def test_legal_notice_shows_publisher_director_host_and_contact(client, legal_settings):
    response = client.get(reverse("public:legal"))
    text = _text(response)
    assert response.status_code == 200
    assert "loi n° 2004-575 du 21 juin 2004 pour la confiance dans l'économie numérique" in text
    assert "Éditeur Association Alliance test Adresse : 22 rue Joubert, 75009 Paris" in text
    assert "Directeur ou directrice de la publication Camille Directrice" in text
    assert "Hébergeur Hébergeur Exemple SAS Adresse : 1 rue de l'Hébergement, 59000 Lille" in text
    assert f'href="mailto:{CONTACT}"' in response.content.decode()
    assert "appartient à ses auteurs : l'ANPP, France urbaine et R.E.D." in text
    assert "licence MIT" in text


def test_legal_notice_says_non_renseigne_for_empty_settings(client, settings):
    settings.PUBLISHER_ADDRESS = settings.PUBLICATION_DIRECTOR = ""
    settings.HOST_NAME = settings.HOST_ADDRESS = settings.CONTACT_EMAIL = ""
    text = _text(client.get(reverse("public:legal")))
    assert "Directeur ou directrice de la publication non renseigné" in text
    assert "Hébergeur non renseigné Adresse : non renseigné" in text
    assert "Adresse e-mail : non renseigné" in text
    assert "formulaire de contact" not in text  # no form without an address


# Accessibility statement


def test_accessibility_statement_follows_the_rgaa_model(client, legal_settings):
    response = client.get(reverse("public:accessibility"))
    html, text = response.content.decode(), _text(response)
    assert response.status_code == 200
    headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", html)
    assert headings == [
        "État de conformité",
        "Résultats des tests",
        "Contenus non accessibles",
        "Établissement de cette déclaration d'accessibilité",
        "Retour d'information et contact",
        "Voies de recours",
    ]
    assert "Association Alliance test s'engage à rendre son site internet accessible" in text
    assert "est partiellement conforme avec le référentiel général" in text
    assert "RGAA), version 4.1" in text


def test_accessibility_statement_is_honest_about_its_tests_and_gaps(client, legal_settings):
    text = _text(client.get(reverse("public:accessibility")))
    assert "Aucun audit de conformité n'a encore été réalisé" in text
    assert "%" not in text  # no conformity rate was measured
    assert "axe-core" in text
    assert "au clavier seul" in text
    assert "sans moyen de mettre ces mises à jour en pause (critère WCAG 2.2.2)" in text
    assert "(critère RGAA 12.1)" in text
    assert "Playwright avec Chromium" in text
    assert "HTML CSS JavaScript" in text


def test_accessibility_statement_gives_contact_and_recourse(client, legal_settings):
    response = client.get(reverse("public:accessibility"))
    html, text = response.content.decode(), _text(response)
    assert f'href="{reverse("public:contact")}?objet=accessibility"' in html
    assert 'href="https://formulaire.defenseurdesdroits.fr/"' in html
    assert "09 69 39 00 00" in text
    assert "Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07" in text
    assert "délégué du Défenseur des droits" in text


# Footer


@pytest.mark.parametrize(
    "url",
    [
        lambda d: reverse("declarations:detail", args=[d.slug]),
        lambda d: reverse("signatures:sign", args=[d.slug]),
        lambda d: reverse("public:list", args=[d.slug]),
        lambda d: reverse("public:contact"),
    ],
    ids=["declaration", "sign", "list", "contact"],
)
def test_footer_links_to_the_legal_pages(client, declaration, url):
    html = client.get(url(declaration)).content.decode()
    footer = html[html.index("<footer") :]
    assert '<nav aria-label="Pied de page">' in footer
    links = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>([^<]+)</a>', footer)
    assert links == [
        (reverse("public:privacy"), "Confidentialité"),
        (reverse("public:legal"), "Mentions légales"),
        (reverse("public:accessibility"), "Accessibilité : partiellement conforme"),
        (reverse("public:contact"), "Contact"),
    ]
    assert "Une initiative de l'ANPP, de France urbaine et de R.E.D." in unescape(footer)


# Contact form


def test_contact_page_shows_the_address_and_the_form(client, contact_settings):
    response = client.get(reverse("public:contact"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="mailto:{CONTACT}"' in html
    assert '<form method="post" action="/contact/"' in html
    for label in ("Question sur une signature", "Signaler un problème", "Accessibilité", "Presse"):
        assert label in html
    assert '<div class="hp-field" aria-hidden="true">' in html


def test_contact_page_preselects_the_subject_named_in_the_link(client, contact_settings):
    html = client.get(reverse("public:contact"), {"objet": "accessibility"}).content.decode()
    assert '<option value="accessibility" selected>' in html


def test_contact_sends_the_message_and_a_copy_to_the_sender(
    client, contact_settings, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _contact(client)
    assert response.status_code == 302
    assert response.url == reverse("public:contact")
    message, copy = sorted(mailoutbox, key=lambda m: m.to != [CONTACT])
    assert message.to == [CONTACT]
    assert message.reply_to == ["camille.durand@mairie-test.fr"]
    assert message.subject == "[Contact] Question sur une signature — Camille Durand"
    assert "De : Camille Durand <camille.durand@mairie-test.fr>" in message.body
    assert "notre signature porte une faute de frappe." in message.body
    assert "faute de frappe." in message.alternatives[0][0]
    assert copy.to == ["camille.durand@mairie-test.fr"]
    assert (
        copy.subject == "Votre message à l'Alliance des territoires — Question sur une signature"
    )
    assert copy.body.startswith("Bonjour,\n")  # an acknowledgement: nothing the sender typed
    assert "faute de frappe" not in copy.body
    assert OutgoingEmail.objects.filter(kind="contact").count() == 1
    page = client.get(response.url).content.decode()
    assert "Merci, votre message est transmis. Nous vous répondrons par e-mail." in page


def test_contact_emails_are_french_on_the_english_interface(
    client, contact_settings, mailoutbox, django_capture_on_commit_callbacks
):
    client.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        _contact(client, subject="press")
    assert {m.subject.split(" — ")[0] for m in mailoutbox} == {
        "[Contact] Presse",
        "Votre message à l'Alliance des territoires",
    }


def test_contact_refuses_invalid_input_next_to_the_field(client, contact_settings, mailoutbox):
    response = _contact(client, email="pas-une-adresse", subject="")
    html = response.content.decode()
    assert response.status_code == 400
    assert "<title>Erreur : Contact" in html
    assert "Le formulaire contient 2 erreurs" in html
    assert re.search(
        r'id="id_email"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="id_email"', html
    )
    assert "Saisissez une adresse e-mail valide, par exemple prenom.nom@mairie.fr." in html
    assert 'value="pas-une-adresse"' in html  # what was typed is kept
    assert 'value="Camille Durand"' in html
    assert "faute de frappe.</textarea>" in html
    assert mailoutbox == []


def test_contact_refuses_invisible_characters(client, contact_settings, mailoutbox):
    response = _contact(client, message="Bonjour\u202e caché", name="Camille\u200b Durand")
    html = response.content.decode()
    assert response.status_code == 400
    assert "caractères invisibles ou de contrôle (U+202E)" in html
    assert "caractères invisibles ou de contrôle (U+200B)" in html
    assert mailoutbox == []


def test_contact_honeypot_gets_the_same_answer_and_sends_nothing(
    client, contact_settings, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _contact(client, website="https://spam.example")
    assert response.status_code == 302
    assert response.url == reverse("public:contact")
    assert "Merci, votre message est transmis." in client.get(response.url).content.decode()
    assert mailoutbox == []
    assert not OutgoingEmail.objects.exists()


def test_contact_is_rate_limited(
    client, contact_settings, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(5):
            assert _contact(client, email=f"personne-{number}@mairie-test.fr").status_code == 302
        response = _contact(client)
    assert response.status_code == 429
    assert "Trop de messages depuis votre connexion. Réessayez dans une heure." in (
        response.content.decode()
    )
    assert len(mailoutbox) == 10  # the five accepted messages and their copies


def test_contact_skips_the_copy_past_the_senders_email_cap(
    client, contact_settings, mailoutbox, django_capture_on_commit_callbacks
):
    contact_settings.EMAIL_CAP_PER_HOUR = 1
    with django_capture_on_commit_callbacks(execute=True):
        _contact(client)
        _contact(client, message="Un second message.")
    assert [m.to for m in mailoutbox] == [
        [CONTACT],
        ["camille.durand@mairie-test.fr"],
        [CONTACT],  # the message still reaches the team; no second copy
    ]


def test_contact_without_an_address_shows_no_form(client, settings, mailoutbox):
    settings.CONTACT_EMAIL = ""
    response = client.get(reverse("public:contact"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Le formulaire de contact n'est pas disponible" in html
    assert 'action="/contact/"' not in html
    assert _contact(client).status_code == 503
    assert mailoutbox == []


def test_contact_message_task_sends_nothing_once_the_address_is_unset(settings, mailoutbox):
    settings.CONTACT_EMAIL = ""
    tasks.send_contact_message(
        name="Camille Durand", email="c@mairie-test.fr", subject="other", message="Bonjour"
    )
    assert mailoutbox == []
