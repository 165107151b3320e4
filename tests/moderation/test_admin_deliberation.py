"""Deliberations in the admin: waiting for review in the queue and on a signature's page,
accepted or refused (with a reason) by moderators, and by nobody else."""

import io
import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfWriter

from signatures.models import ModerationEvent, Signature
from signatures.proof.deliberations import attach_deliberation
from tests.factories import SignatureFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_root")]

SIGNATURES = reverse("admin:signatures_signature_changelist")
QUEUE = reverse("admin:signatures_moderationqueue_changelist")


def _attached(**fields) -> Signature:
    signature = SignatureFactory(**fields)
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    pdf = io.BytesIO()
    writer.write(pdf)
    upload = SimpleUploadedFile("deliberation.pdf", pdf.getvalue(), "application/pdf")
    return attach_deliberation(signature_id=signature.pk, uploaded_file=upload)


def _act(client, action, signatures, url=SIGNATURES, **extra):
    data = {"action": action, "_selected_action": [s.pk for s in signatures], **extra}
    return client.post(url, data, follow=True)


def _text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_queue_shows_and_filters_the_deliberations_to_review(moderator_client):
    waiting = _attached(status="confirmed")
    SignatureFactory(status="confirmed")
    response = moderator_client.get(QUEUE)
    assert len(response.context["cl"].result_list) == 2
    assert "Délibération à examiner" in _text(response)  # in the status column
    filtered = moderator_client.get(QUEUE, {"deliberation": "pending"})
    assert list(filtered.context["cl"].result_list) == [waiting]
    accepted = moderator_client.get(QUEUE, {"deliberation": "accepted"})
    assert list(accepted.context["cl"].result_list) == []


def test_a_published_signature_with_a_new_deliberation_waits_in_the_queue(moderator_client):
    """Published, it left the queue; a deliberation joined later brings it back until decided."""
    waiting = _attached(status="published")
    SignatureFactory(status="published")
    assert list(moderator_client.get(QUEUE).context["cl"].result_list) == [waiting]
    _act(moderator_client, "accept_deliberation", [waiting], url=QUEUE)
    assert list(moderator_client.get(QUEUE).context["cl"].result_list) == []


def test_signature_page_shows_the_deliberation_waiting_for_review(moderator_client):
    signature = _attached(status="confirmed")
    html = moderator_client.get(
        reverse("admin:signatures_signature_change", args=[signature.pk])
    ).content.decode()
    link = reverse("signatures:deliberation", args=[signature.public_id])
    assert f'<a href="{link}">Délibération : ouvrir (PDF)</a> — privée — à examiner' in html


def test_moderator_accepts_a_deliberation_from_the_list(moderator_client, moderator):
    signature = _attached(status="published")
    without = SignatureFactory(status="published")
    response = _act(moderator_client, "accept_deliberation", [signature, without])
    assert "1 délibération acceptée." in _text(response)
    signature.refresh_from_db()
    assert signature.deliberation_review == "accepted"
    assert signature.verification == Signature.Verification.DELIBERATION
    event = ModerationEvent.objects.get()
    assert (event.action, event.actor) == ("deliberation_ok", moderator)


def test_moderator_refuses_a_deliberation_with_a_reason(
    moderator_client, mailoutbox, django_capture_on_commit_callbacks
):
    signature = _attached(status="confirmed")
    page = _act(moderator_client, "refuse_deliberation", [signature], url=QUEUE)
    assert "Refuser la délibération" in _text(page)
    signature.refresh_from_db()
    assert signature.deliberation_review == "pending"  # only the form so far
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(
            moderator_client,
            "refuse_deliberation",
            [signature],
            url=QUEUE,
            apply="1",
            reason="not_a_mandate",
            note="C'est un courrier, pas une délibération.",
        )
    assert "1 délibération refusée ; le signataire reçoit le motif par e-mail." in _text(response)
    signature.refresh_from_db()
    assert signature.deliberation_review == "refused"
    assert signature.deliberation_refusal_reason == "not_a_mandate"
    assert signature.verification == Signature.Verification.EMAIL
    assert ModerationEvent.objects.get().reason == "not_a_mandate"
    assert len(mailoutbox) == 1


def test_refusing_a_deliberation_for_another_reason_needs_a_note(moderator_client):
    signature = _attached(status="confirmed")
    page = _act(
        moderator_client,
        "refuse_deliberation",
        [signature],
        apply="1",
        reason="deliberation_other",
        note="",
    )
    assert "Précisez le motif." in _text(page)
    signature.refresh_from_db()
    assert signature.deliberation_review == "pending"


def test_staff_without_the_moderation_permission_cannot_decide_a_deliberation(client):
    signature = _attached(status="published")
    viewer = UserFactory(username="lecteur")
    viewer.user_permissions.add(Permission.objects.get(codename="view_signature"))
    client.force_login(viewer)
    html = client.get(SIGNATURES).content.decode()
    assert 'value="accept_deliberation"' not in html
    assert 'value="refuse_deliberation"' not in html
    _act(client, "accept_deliberation", [signature])
    _act(client, "refuse_deliberation", [signature], apply="1", reason="illegible")
    signature.refresh_from_db()
    assert signature.deliberation_review == "pending"
    assert signature.verification == Signature.Verification.EMAIL
    assert not ModerationEvent.objects.exists()


def _page(signature) -> str:
    return reverse("admin:signatures_signature_change", args=[signature.pk])


def _review_url(signature) -> str:
    return reverse("admin:signatures_signature_review_deliberation", args=[signature.pk])


def test_signature_page_accepts_a_deliberation(moderator_client, moderator):
    signature = _attached(status="published")
    html = moderator_client.get(_page(signature)).content.decode()
    assert 'name="decision" value="accept_deliberation"' in html
    assert 'name="decision" value="refuse_deliberation"' in html
    response = moderator_client.post(
        _review_url(signature), {"decision": "accept_deliberation"}, follow=True
    )
    assert response.redirect_chain[-1][0] == _page(signature)
    assert "1 délibération acceptée." in _text(response)
    signature.refresh_from_db()
    assert signature.deliberation_review == "accepted"
    assert signature.verification == Signature.Verification.DELIBERATION
    assert 'value="accept_deliberation"' not in response.content.decode()  # done already


def test_signature_page_refuses_a_deliberation_once_its_reason_is_given(moderator_client):
    signature = _attached(status="confirmed")
    refusal = {"decision": "refuse_deliberation", "refusal-reason": "deliberation_other"}
    page = moderator_client.post(_review_url(signature), refusal)
    assert page.status_code == 200  # asked again: "other" needs its note
    assert "Précisez le motif." in _text(page)
    signature.refresh_from_db()
    assert signature.deliberation_review == "pending"
    refusal["refusal-note"] = "Le document est daté d'avant l'élection."
    response = moderator_client.post(_review_url(signature), refusal)
    assert response["Location"] == _page(signature)
    signature.refresh_from_db()
    assert signature.deliberation_review == "refused"
    assert signature.deliberation_refusal_note == "Le document est daté d'avant l'élection."


def test_signature_page_review_is_for_moderators_only(client, moderator):
    signature = _attached(status="published")
    viewer = UserFactory(username="lecteur")
    viewer.user_permissions.add(Permission.objects.get(codename="view_signature"))
    client.force_login(viewer)
    assert 'value="accept_deliberation"' not in client.get(_page(signature)).content.decode()
    response = client.post(_review_url(signature), {"decision": "accept_deliberation"})
    assert response.status_code == 403
    client.force_login(moderator)
    assert client.get(_review_url(signature)).status_code == 405
    assert client.post(_review_url(signature), {"decision": "approve"}).status_code == 400
    signature.refresh_from_db()
    assert signature.deliberation_review == "pending"
    assert not ModerationEvent.objects.exists()
