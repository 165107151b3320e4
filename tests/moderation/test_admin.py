"""Moderators at work in the admin: the queue, actions, permissions, exports, lockout."""

import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from declarations.models import Network
from signatures import services
from signatures.models import Flag, ModerationEvent, Signature
from tests.factories import (
    DeclarationFactory,
    SignatureFactory,
    UserFactory,
    bulk_signatures,
)

pytestmark = pytest.mark.django_db

SIGNATURES = reverse("admin:signatures_signature_changelist")
QUEUE = reverse("admin:signatures_moderationqueue_changelist")


def _act(client, action, signatures, url=SIGNATURES, **extra):
    data = {"action": action, "_selected_action": [s.pk for s in signatures], **extra}
    return client.post(url, data, follow=True)


def test_queue_lists_confirmed_signatures_oldest_first(moderator_client):
    now = timezone.now()
    newer = SignatureFactory(status="confirmed", confirmed_at=now)
    older = SignatureFactory(status="confirmed", confirmed_at=now - timezone.timedelta(days=2))
    SignatureFactory(status="pending")
    SignatureFactory(status="published")
    response = moderator_client.get(QUEUE)
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert rows == [older, newer]


def test_admin_index_shows_the_queue_count_to_moderators(moderator_client):
    SignatureFactory.create_batch(3, status="confirmed")
    html = moderator_client.get(reverse("admin:index")).content.decode()
    assert "3 signatures à modérer" in html
    assert QUEUE in html


def test_moderator_approves_three_and_rejects_one_with_a_reason(
    moderator_client, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    declaration = DeclarationFactory()
    signatures = SignatureFactory.create_batch(4, declaration=declaration, status="confirmed")
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(moderator_client, "approve", signatures[:3], url=QUEUE)
    assert "3 signatures traitées." in response.content.decode()

    page = _act(moderator_client, "reject", signatures[3:], url=QUEUE)
    assert "Refuser des signatures" in page.content.decode()
    assert Signature.objects.filter(status="rejected").count() == 0  # only the form so far
    with django_capture_on_commit_callbacks(execute=True):
        _act(
            moderator_client,
            "reject",
            signatures[3:],
            url=QUEUE,
            apply="1",
            reason="wrong_territory",
            note="Le SIREN est celui d'une autre commune.",
        )
    statuses = sorted(Signature.objects.values_list("status", flat=True))
    assert statuses == ["published"] * 3 + ["rejected"]
    events = ModerationEvent.objects.filter(actor=moderator)
    assert sorted(events.values_list("action", flat=True)) == ["approve"] * 3 + ["reject"]
    assert events.get(action="reject").reason == "wrong_territory"
    assert len(mailoutbox) == 4
    assert sum("n'a pas été retenue" in m.subject for m in mailoutbox) == 1
    declaration.refresh_from_db()
    assert declaration.signature_count == 3


def test_reject_action_without_a_note_for_other_reason_asks_again(moderator_client):
    signature = SignatureFactory(status="confirmed")
    response = _act(moderator_client, "reject", [signature], apply="1", reason="other")
    assert "Précisez le motif." in response.content.decode()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED


def test_approve_action_refuses_a_territory_already_published(moderator_client):
    published = SignatureFactory(status="published")
    other = SignatureFactory(
        declaration=published.declaration, territory=published.territory, status="rejected"
    )
    response = _act(moderator_client, "approve", [other])
    assert "ont déjà une signature publiée ou confirmée" in response.content.decode()
    other.refresh_from_db()
    assert other.status == Signature.Status.REJECTED


def test_actions_skip_signatures_in_the_wrong_status(moderator_client):
    pending = SignatureFactory(status="pending")
    response = _act(moderator_client, "approve", [pending])
    assert "1 signature ignorée" in response.content.decode()


def test_withdraw_resend_and_anonymise_actions_change_the_selection(
    moderator_client, mailoutbox, django_capture_on_commit_callbacks
):
    published, pending, other = (
        SignatureFactory(status=s) for s in ("published", "pending", "confirmed")
    )
    _act(moderator_client, "withdraw", [published])
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(moderator_client, "resend_confirmation", [pending, other])
    assert "1 lien renvoyé" in response.content.decode()
    assert len(mailoutbox) == 1
    _act(moderator_client, "anonymise", [other])
    published.refresh_from_db()
    other.refresh_from_db()
    assert published.status == Signature.Status.WITHDRAWN
    assert other.anonymised_at is not None
    assert other.email == ""


def test_signature_page_shows_flags_and_the_audit_trail(moderator_client, moderator):
    signature = SignatureFactory(status="confirmed", email="x@gmail.com")
    signature.flags.create(code=Flag.Code.WEBMAIL, detail="gmail.com")
    _act(moderator_client, "approve", [signature])
    html = moderator_client.get(
        reverse("admin:signatures_signature_change", args=[signature.pk])
    ).content.decode()
    assert "Messagerie grand public" in html
    assert "Publication" in html
    assert "moderatrice" in html
    assert 'name="events-0-note"' not in html  # the trail is shown, never editable


def test_failed_decision_email_is_shown_to_moderators(
    admin_client, smtp_sink, django_capture_on_commit_callbacks
):
    smtp_sink.refuse_next = 100
    smtp_sink.refusal = "550 5.1.1 No such user here"
    signature = SignatureFactory(status="confirmed")
    with django_capture_on_commit_callbacks(execute=True):  # the email is tried, and refused
        services.change_status(signature_id=signature.pk, action="approve")
    event = signature.events.get()
    url = reverse("admin:signatures_moderationevent_changelist")
    html = admin_client.get(url, {"notification": "failed"}).content.decode()
    assert f"/admin/signatures/moderationevent/{event.pk}/change/" in html
    detail = admin_client.get(
        reverse("admin:signatures_signature_change", args=[event.signature_id])
    ).content.decode()
    assert "No such user here" in detail


def test_moderator_cannot_edit_declarations_delete_signatures_or_manage_users(
    moderator_client, moderator
):
    declaration = DeclarationFactory()
    signature = SignatureFactory(declaration=declaration)
    change_declaration = reverse("admin:declarations_declaration_change", args=[declaration.pk])
    response = moderator_client.post(change_declaration, {"title": "Piraté"})
    declaration.refresh_from_db()
    assert declaration.title != "Piraté"
    assert response.status_code == 403
    delete = reverse("admin:signatures_signature_delete", args=[signature.pk])
    assert moderator_client.post(delete, {"post": "yes"}).status_code == 403
    assert Signature.objects.filter(pk=signature.pk).exists()
    assert moderator_client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert not moderator.has_perm("declarations.change_declaration")


def test_staff_without_the_moderation_permission_gets_no_actions(client):
    viewer = UserFactory(username="lecteur")
    viewer.user_permissions.add(Permission.objects.get(codename="view_signature"))
    client.force_login(viewer)
    signature = SignatureFactory(status="confirmed")
    response = client.get(SIGNATURES)
    assert response.status_code == 200
    assert 'value="approve"' not in response.content.decode()
    client.post(SIGNATURES, {"action": "approve", "_selected_action": [signature.pk]})
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED


def test_export_needs_the_permission(moderator_client, moderator):
    export = reverse("admin:signatures_signature_export")
    assert moderator_client.get(export).status_code == 403
    assert export not in moderator_client.get(SIGNATURES).content.decode()
    moderator.user_permissions.add(Permission.objects.get(codename="export_signature"))
    assert moderator_client.get(export).status_code == 200
    # The changelist links to it, keeping its filters.
    page = moderator_client.get(SIGNATURES + "?status__exact=published").content.decode()
    assert f'href="{export}?status__exact=published"' in page


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_writes_the_filtered_list_with_all_fields(client, file_format):
    client.force_login(UserFactory(username="admin", is_superuser=True))
    network = Network.objects.get(slug="anpp")
    kept = SignatureFactory(status="published", email="gardee@mairie.fr", last_name="Gardée")
    kept.networks.add(network)
    SignatureFactory(status="pending", email="exclue@mairie.fr")
    formats = {"csv": "0", "xlsx": "1"}
    response = client.post(
        reverse("admin:signatures_signature_export") + "?status__exact=published",
        {"format": formats[file_format], "resource": "0"},
    )
    assert response.status_code == 200, response.content[:500]
    if file_format == "csv":
        text = response.content.decode("utf-8")
    else:
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        text = "\n".join(
            ",".join(str(c) for c in row if c is not None) for row in book.active.values
        )
    assert "gardee@mairie.fr" in text
    assert "exclue@mairie.fr" not in text
    assert "ANPP" in text
    assert kept.territory.name in text


def _changelist_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [SIGNATURES, QUEUE])
def test_changelist_query_count_does_not_grow_with_the_table(moderator_client, url):
    bulk_signatures(DeclarationFactory(), 10, status="confirmed")
    small = _changelist_queries(moderator_client, url)
    bulk_signatures(DeclarationFactory(), 990, start=10, status="confirmed")
    large = _changelist_queries(moderator_client, url)
    assert small == large
    assert large < 25


def test_admin_login_locks_out_after_repeated_failures(client):
    UserFactory(username="cible")
    login = reverse("admin:login")
    for _ in range(5):
        client.post(login, {"username": "cible", "password": "mauvais"})
    response = client.post(login, {"username": "cible", "password": "mot-de-passe-de-test"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
