"""The signatory in control: the personal "manage" link, correct, withdraw, download."""

import datetime
import io
import json
import logging
import re
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from gunicorn.config import Config as GunicornConfig
from pypdf import PdfWriter

from core.redaction import GunicornLogger, RedactSecretLinks
from moderation import decisions
from public.filters import published_signatures
from signatures import managing, services, stats
from signatures.forms import consent_version
from signatures.models import Correction, ModerationEvent, Signature
from tests.conftest import confirmation_path, wait_for
from tests.factories import DeclarationFactory, SignatureFactory, signature_form_data

pytestmark = pytest.mark.django_db

MANAGE_LINK = re.compile(r"https?://\S+(/signatures/gerer/[^/\s]+/)")


def _manage_path(signature) -> str:
    return reverse("signatures:manage", args=[signature.make_manage_token()])


def _paths_in(message) -> list[str]:
    return MANAGE_LINK.findall(message.body)


@pytest.fixture
def published(declaration, territory):
    return SignatureFactory(
        declaration=declaration,
        territory=territory,
        status="published",
        first_name="Camille",
        last_name="Durand",
        comment="Pour la relance",
        phone="05 61 22 29 22",
        submitted_ip="192.0.2.7",
    )


def test_every_email_to_a_signatory_carries_a_working_manage_link(
    client, declaration, territory, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("signatures:sign", args=[declaration.slug]),
            signature_form_data(territory=territory.pk),
        )
    signature = Signature.objects.get()
    services.confirm_signature(signature_id=signature.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(signature_id=signature.pk, action="approve", actor=moderator)
    with django_capture_on_commit_callbacks(execute=True):
        managing.correct_signature(
            signature_id=signature.pk,
            fields={**signature_form_data(), "function_other": "", "comment": ""},
        )
    with django_capture_on_commit_callbacks(execute=True):
        decisions.decide_correction(
            correction_id=Correction.objects.get().pk, approve=False, actor=moderator
        )
    with django_capture_on_commit_callbacks(execute=True):
        managing.send_manage_links(email=signature.email)
    with django_capture_on_commit_callbacks(execute=True):
        managing.withdraw_signature(signature_id=signature.pk)
    subjects = [message.subject.split(" — ")[0] for message in mailoutbox]
    assert len(mailoutbox) == 5, subjects  # confirmation, published, correction, link, withdrawn
    for message in mailoutbox:
        (path,) = set(_paths_in(message))
        assert client.get(path).status_code == 200, message.subject
        assert path in message.alternatives[0][0]  # the HTML part too


def test_manage_page_shows_everything_held_and_changes_nothing(client, published):
    response = client.get(_manage_path(published))
    html = response.content.decode()
    assert response.status_code == 200
    for held in ["Camille Durand", published.email, "05 61 22 29 22", "192.0.2.7", "publiée"]:
        assert held in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    published.refresh_from_db()
    assert published.status == Signature.Status.PUBLISHED
    assert not published.events.exists()


@pytest.mark.parametrize(
    "mangle", [lambda t: t[:-2], lambda t: "x" + t, lambda t: "sans-deux-points"]
)
def test_manage_refuses_a_forged_link(client, published, mangle):
    response = client.get(
        reverse("signatures:manage", args=[mangle(published.make_manage_token())])
    )
    assert response.status_code == 404
    assert "Ce lien ne fonctionne pas" in response.content.decode()
    assert response["Referrer-Policy"] == "no-referrer"


def test_moderator_renews_the_link_and_the_old_one_stops_working(
    client, moderator_client, published, mailoutbox, django_capture_on_commit_callbacks
):
    old = _manage_path(published)
    with django_capture_on_commit_callbacks(execute=True):
        moderator_client.post(
            reverse("admin:signatures_signature_changelist"),
            {"action": "renew_manage_link", "_selected_action": [published.pk]},
        )
    assert client.get(old).status_code == 404
    (new,) = _paths_in(mailoutbox[0])
    assert new != old
    assert client.get(new).status_code == 200
    assert published.events.get().action == ModerationEvent.Action.NEW_MANAGE_LINK


def test_correcting_a_pending_signature_applies_at_once(client, declaration, territory):
    signature = SignatureFactory(declaration=declaration, territory=territory)
    data = {
        "action": "correct",
        "first_name": "Camille",
        "last_name": "Dupont",
        "function": "autre",
        "function_other": "Première adjointe",
        "comment": "",
    }
    response = client.post(_manage_path(signature), data)
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.last_name == "Dupont"
    assert signature.function_label == "Première adjointe"
    assert signature.signatory_search == "camille dupont"
    assert not Correction.objects.exists()


def test_correcting_a_published_signature_waits_for_a_moderator(
    client,
    moderator_client,
    declaration,
    published,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    stats.refresh_stats(declaration_id=declaration.pk)
    version = stats.version_for_slug(declaration.slug)
    data = {
        "action": "correct",
        "first_name": "Camille",
        "last_name": "Durand-Martin",
        "function": "maire",
        "function_other": "",
        "comment": "Pour la relance",
    }
    page = client.post(_manage_path(published), data, follow=True).content.decode()
    assert "attend la vérification d'un modérateur" in page
    assert [s.full_name for s in published_signatures(declaration, {})] == ["Camille Durand"]
    queue = moderator_client.get(reverse("admin:signatures_moderationqueue_changelist"))
    assert "Durand" in queue.content.decode()
    detail = moderator_client.get(
        reverse("admin:signatures_signature_change", args=[published.pk])
    ).content.decode()
    assert "« Durand » → « Durand-Martin »" in detail
    with django_capture_on_commit_callbacks(execute=True):
        moderator_client.post(
            reverse("admin:signatures_moderationqueue_changelist"),
            {"action": "approve_correction", "_selected_action": [published.pk]},
        )
    assert [s.full_name for s in published_signatures(declaration, {})] == [
        "Camille Durand-Martin"
    ]
    assert stats.version_for_slug(declaration.slug) != version  # the public ETags change
    assert "Votre correction est publiée" in mailoutbox[-1].subject


def test_withdrawing_asks_for_confirmation_first(client, published):
    response = client.post(_manage_path(published), {"action": "withdraw"})
    assert response.status_code == 200
    assert "Retirer ma signature ?" in response.content.decode()
    published.refresh_from_db()
    assert published.status == Signature.Status.PUBLISHED


def test_a_withdrawn_signature_leaves_every_public_output(
    client, declaration, territory, published, mailoutbox, django_capture_on_commit_callbacks
):
    stats.refresh_stats(declaration_id=declaration.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_manage_path(published), {"action": "withdraw", "confirmed": "yes"})
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.status == Signature.Status.WITHDRAWN
    assert "est retirée" in mailoutbox[-1].subject
    slug = declaration.slug
    for path in [
        reverse("public:list", args=[slug]),
        reverse("public:list_updates", args=[slug]) + "?depuis=1",
        reverse("public:widget", args=[slug]),
        reverse("public:statistics", args=[slug]),
        f"/api/declarations/{slug}/signatures",
        f"/api/declarations/{slug}",
    ]:
        body = client.get(path).content.decode()
        assert "Durand" not in body, path
    csv = client.get(reverse("public:csv", args=[slug])).getvalue().decode()
    assert "Durand" not in csv
    assert client.get(f"/api/declarations/{slug}").json()["counts"]["total"] == 0
    # The territory is free again.
    again = client.post(
        reverse("signatures:sign", args=[slug]), signature_form_data(territory=territory.pk)
    )
    assert again.status_code == 302


def test_download_gives_everything_held_as_json(client, published):
    response = client.post(_manage_path(published), {"action": "download"})
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["email"] == published.email
    assert data["phone"] == "05 61 22 29 22"
    assert data["ip_address"] == "192.0.2.7"
    assert data["territory"]["name"] == published.territory.name
    assert data["reference"] == published.public_id


def test_download_names_who_filled_the_form_on_behalf_and_the_civility(client, published):
    published.civility = "madame"
    published.signs_on_behalf = True
    published.filler_first_name, published.filler_last_name = "Paul", "Cabinet"
    published.filler_function = "Directeur de cabinet"
    published.save()
    data = json.loads(client.post(_manage_path(published), {"action": "download"}).content)
    assert data["civility"] == "Madame"
    assert data["filled_on_behalf_by"] == {
        "first_name": "Paul",
        "last_name": "Cabinet",
        "function": "Directeur de cabinet",
    }
    assert data["deliberation"] is None


def test_a_new_link_answers_the_same_for_known_and_unknown_addresses(
    client, published, mailoutbox, django_capture_on_commit_callbacks
):
    url = reverse("signatures:manage_request")
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(url, {"email": published.email.upper()}, follow=True)
        unknown = client.post(url, {"email": "personne@nulle-part.fr"}, follow=True)
    assert known.content.decode().count("un lien personnel") == unknown.content.decode().count(
        "un lien personnel"
    )
    assert [message.to for message in mailoutbox] == [[published.email]]
    (path,) = _paths_in(mailoutbox[0])
    assert client.get(path).status_code == 200


def test_manage_actions_are_rate_limited(client, published):
    for _ in range(30):
        client.post(_manage_path(published), {"action": "download"})
    response = client.post(_manage_path(published), {"action": "download"})
    assert response.status_code == 429


def test_consent_checkbox_links_to_the_privacy_notice(client, declaration):
    html = client.get(reverse("signatures:sign", args=[declaration.slug])).content.decode()
    assert f'href="{reverse("public:privacy")}"' in html
    assert "vos droits" in html


def test_consent_version_and_time_are_stored(client, declaration, territory):
    client.post(
        reverse("signatures:sign", args=[declaration.slug]),
        signature_form_data(territory=territory.pk),
    )
    signature = Signature.objects.get()
    assert signature.consent_version == consent_version()
    assert len(signature.consent_version) == 12
    assert signature.consented_at == signature.submitted_at


def test_secret_links_never_reach_the_logs(client, published, caplog):
    token = published.make_manage_token()
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get(reverse("signatures:manage", args=[token[:-3]]))  # a 404: logged
    for record in caplog.records:  # the console handler's filter has already run
        RedactSecretLinks().filter(record)
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["Not Found: /signatures/gerer/[secret]/"]


def test_gunicorn_access_log_is_redacted(published):
    token = published.make_manage_token()
    path = f"/signatures/gerer/{token}/"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://alliance.example.org{path}",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    atoms = GunicornLogger(GunicornConfig()).atoms(
        response, SimpleNamespace(headers=[]), environ, datetime.timedelta(seconds=0.01)
    )
    assert all(token not in str(value) for value in atoms.values())
    assert atoms["r"] == "GET /signatures/gerer/[secret]/ HTTP/1.1"


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_manage_link_withdraw_end_to_end_through_a_real_worker(
    client, celery_worker, smtp_sink, territory
):
    declaration = DeclarationFactory(slug="gestion")
    client.post(
        reverse("signatures:sign", args=[declaration.slug]),
        signature_form_data(territory=territory.pk),
    )
    assert wait_for(lambda: smtp_sink.messages)
    client.post(confirmation_path(smtp_sink.messages[0]))
    manage = MANAGE_LINK.search(smtp_sink.messages[0].get_body(("plain",)).get_content()).group(1)
    assert client.post(manage, {"action": "withdraw", "confirmed": "yes"}).status_code == 302
    assert wait_for(lambda: len(smtp_sink.messages) == 2)
    assert "est retirée" in smtp_sink.messages[1]["Subject"]
    assert Signature.objects.get().status == Signature.Status.WITHDRAWN


def test_origin_null_is_accepted_only_on_the_no_referrer_pages(published, declaration):
    """Browsers send `Origin: null` from a no-referrer page; the CSRF token still counts."""
    browser = Client(enforce_csrf_checks=True)
    path = _manage_path(published)
    page = browser.get(path).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = {"csrfmiddlewaretoken": token, "action": "download"}
    assert browser.post(path, data, HTTP_ORIGIN="null").status_code == 200
    assert browser.post(path, {"action": "download"}, HTTP_ORIGIN="null").status_code == 403
    sign = reverse("signatures:sign", args=[declaration.slug])
    assert (
        browser.post(sign, {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="null").status_code == 403
    )


def test_a_refused_signatory_contests_by_attaching_a_deliberation(client, private_root):
    """The refusal email says so: the page of a refused signature keeps the upload, and
    the file puts the signature back before the moderators."""
    refused = SignatureFactory(status="confirmed")
    services.change_status(signature_id=refused.pk, action="reject", reason="not_representative")
    page = client.get(_manage_path(refused)).content.decode()
    assert "Pour contester le refus de votre signature" in page
    assert 'value="deliberation"' in page
    assert "Enregistrer la correction" not in page  # nothing else changes a refused one
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    pdf = io.BytesIO()
    writer.write(pdf)
    upload = SimpleUploadedFile("deliberation.pdf", pdf.getvalue(), "application/pdf")
    client.post(_manage_path(refused), {"action": "deliberation", "deliberation": upload})
    refused.refresh_from_db()
    assert refused.deliberation_review == Signature.DeliberationReview.PENDING
    assert Signature.objects.awaiting_decision().filter(pk=refused.pk).exists()
