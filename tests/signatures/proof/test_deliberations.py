"""Council deliberations: checked by content, stored privately, shown to moderators,
public only when a moderator says so."""

import datetime
import io
import os
import re
import zipfile
from html import unescape

import pytest
from django import forms
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pypdf import PdfWriter

from signatures import retention, services
from signatures.models import ModerationEvent, Signature, SignatureStats, private_storage
from signatures.proof.deliberations import (
    attach_deliberation,
    review_deliberation,
    set_deliberation_public,
)
from signatures.proof.fields import DeliberationField
from signatures.proof.storage import delete_orphan_deliberation_files
from tests.factories import SignatureFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_root")]

SIGNATURES = reverse("admin:signatures_signature_changelist")
VOISINVILLE = "Le document est celui de Voisinville."


def _pdf(**encryption) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if encryption:
        writer.encrypt(**encryption)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format="PNG")
    return out.getvalue()


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>Délibération</w:document>")
    return out.getvalue()


def _upload(data: bytes, name: str = "deliberation.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


class DeliberationForm(forms.Form):
    deliberation = DeliberationField()


def _errors(data: bytes, name: str = "deliberation.pdf") -> list[str]:
    form = DeliberationForm(data={}, files={"deliberation": _upload(data, name)})
    return [] if form.is_valid() else form.errors["deliberation"]


def _attached(signature=None, data=None, name="Délibération Mairie Dupont.pdf") -> Signature:
    signature = signature or SignatureFactory(status="published")
    return attach_deliberation(
        signature_id=signature.pk, uploaded_file=_upload(data or _pdf(), name)
    )


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


def _refuse(signature, moderator, reason: str, note: str) -> bool:
    return review_deliberation(
        signature_id=signature.pk, outcome="refused", actor=moderator, reason=reason, note=note
    )


def test_field_accepts_a_pdf_and_is_optional():
    assert _errors(_pdf()) == []
    assert DeliberationForm(data={}, files={}).is_valid()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (_png(), "deliberation.pdf", "son contenu est d'un autre format"),
        (_docx(), "deliberation.pdf", "son contenu est d'un autre format"),
        ("Vu la délibération du conseil…\n".encode(), "deliberation.pdf", "d'un autre format"),
        (_pdf()[:200], "deliberation.pdf", "il est incomplet"),
        (b"%PDF-1.7\nrien de plus\n%%EOF\n", "deliberation.pdf", "il est endommagé"),
    ],
    ids=["png", "docx", "txt", "truncated", "damaged"],
)
def test_field_refuses_what_is_not_a_pdf_by_its_content(data, name, message):
    errors = _errors(data, name)
    assert len(errors) == 1
    assert errors[0].startswith("Ce fichier n'est pas un PDF : ")
    assert message in errors[0]


def test_field_refuses_a_pdf_that_needs_a_password_and_accepts_one_that_opens_without():
    locked = _pdf(user_password="secret", owner_password="owner", algorithm="AES-128")
    assert "protégé par un mot de passe" in _errors(locked)[0]
    restricted = _pdf(user_password="", owner_password="owner", algorithm="AES-256")
    assert _errors(restricted) == []


def test_field_refuses_a_file_over_the_limit(settings):
    too_big = _pdf() + b"\n" * (5 * 1024 * 1024)  # a valid PDF, padded past 5 MB
    assert _errors(too_big) == ["Ce fichier pèse 5,1 Mo ; la limite est de 5 Mo."]
    settings.DELIBERATION_MAX_BYTES = 3 * 1024 * 1024 // 2
    too_big = _pdf() + b"\n" * (2 * 1024 * 1024)
    assert _errors(too_big) == ["Ce fichier pèse 2,1 Mo ; la limite est de 1,5 Mo."]


def test_field_partial_shows_the_explanation_tied_to_the_input():
    html = render_to_string(
        "signatures/includes/deliberation_field.html",
        {"field": DeliberationForm()["deliberation"]},
    )
    assert 'type="file"' in html
    assert 'accept="application/pdf,.pdf"' in html
    assert 'aria-describedby="id_deliberation_helptext"' in html
    assert 'id="id_deliberation_helptext"' in html
    assert "Facultatif : la délibération du conseil ou le mandat" in html
    assert "sauf si un modérateur le décide." in html


def test_attach_stores_the_file_privately_under_a_random_name(private_root):
    signature = _attached(SignatureFactory(status="confirmed"))
    signature.refresh_from_db()
    name = signature.deliberation.name
    assert name.startswith("deliberations/")
    assert name.endswith(".pdf")
    assert "Dupont" not in name
    assert "Mairie" not in name
    assert _attached().deliberation.name != name  # same uploaded name, another random one
    assert (private_root / name).read_bytes() == _pdf()
    assert signature.verification == Signature.Verification.EMAIL  # until a moderator accepts it
    assert signature.deliberation_review == "pending"
    assert signature.deliberation_uploaded_at is not None
    assert not signature.deliberation_is_public


def test_attach_replaces_the_previous_file_and_makes_it_private_again(
    private_root, django_capture_on_commit_callbacks
):
    signature = _attached()
    first = signature.deliberation.name
    set_deliberation_public(signature_id=signature.pk, is_public=True, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        signature = _attached(signature, data=_pdf(user_password="", owner_password="o"))
    signature.refresh_from_db()
    assert signature.deliberation.name != first
    assert not (private_root / first).exists()
    assert (private_root / signature.deliberation.name).exists()
    assert not signature.deliberation_is_public


def test_attach_refuses_a_withdrawn_signature_and_writes_nothing(private_root):
    signature = SignatureFactory(status="withdrawn")
    with pytest.raises(services.InvalidTransition):
        _attached(signature)
    assert not (private_root / "deliberations").exists() or not os.listdir(
        private_root / "deliberations"
    )


def test_attach_deletes_its_file_when_it_fails_after_writing_it(private_root, monkeypatch):
    def fail(signature):
        raise RuntimeError("database gone")

    # Failure injection: the row cannot be completed once the file is on disk.
    monkeypatch.setattr(services, "refresh_proof", fail)
    signature = SignatureFactory(status="confirmed")
    with pytest.raises(RuntimeError):
        _attached(signature)
    assert os.listdir(private_root / "deliberations") == []
    signature.refresh_from_db()
    assert not signature.deliberation


def test_orphan_files_older_than_an_hour_are_deleted(private_root):
    kept = _attached().deliberation.name
    orphans = private_root / "deliberations"
    (orphans / "old.pdf").write_bytes(b"%PDF-")
    (orphans / "recent.pdf").write_bytes(b"%PDF-")
    two_hours_ago = (timezone.now() - datetime.timedelta(hours=2)).timestamp()
    os.utime(orphans / "old.pdf", (two_hours_ago, two_hours_ago))
    os.utime(private_root / kept, (two_hours_ago, two_hours_ago))
    assert delete_orphan_deliberation_files(timezone.now()) == 1
    assert sorted(os.listdir(orphans)) == sorted(["recent.pdf", kept.rpartition("/")[2]])


def test_moderator_sees_the_pdf_inline_with_safe_headers(moderator_client):
    signature = _attached()
    response = moderator_client.get(reverse("signatures:deliberation", args=[signature.public_id]))
    assert response.status_code == 200
    assert _content(response) == _pdf()
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"] == (
        f'inline; filename="deliberation-{signature.public_id}.pdf"'
    )


def test_moderator_view_refuses_anyone_else(client, settings, moderator_client):
    signature = _attached()
    url = reverse("signatures:deliberation", args=[signature.public_id])
    moderator_client.logout()
    assert client.get(url).status_code == 403  # anonymous
    client.force_login(UserFactory(username="personnel"))  # staff, no permission
    assert client.get(url).status_code == 403
    outsider = UserFactory(username="exterieur", is_staff=False)
    outsider.user_permissions.add(Permission.objects.get(codename="view_signature"))
    client.force_login(outsider)  # the permission, but not staff
    assert client.get(url).status_code == 403


def test_moderator_view_needs_the_second_factor_when_required(moderator_client, settings):
    settings.STAFF_REQUIRE_2FA = True
    signature = _attached()
    url = reverse("signatures:deliberation", args=[signature.public_id])
    assert moderator_client.get(url).status_code == 403


def test_moderator_view_404s_without_a_deliberation(moderator_client, private_root):
    without = SignatureFactory(status="published")
    url = reverse("signatures:deliberation", args=[without.public_id])
    assert moderator_client.get(url).status_code == 404
    assert moderator_client.get(url.replace(without.public_id, "inconnue")).status_code == 404
    missing = _attached()
    (private_root / missing.deliberation.name).unlink()
    url = reverse("signatures:deliberation", args=[missing.public_id])
    assert moderator_client.get(url).status_code == 404


def test_public_view_serves_it_only_when_public_and_published(client):
    signature = _attached(SignatureFactory(status="confirmed"))
    url = reverse("public:deliberation", args=[signature.public_id])
    assert url == f"/verifier/{signature.public_id}/deliberation.pdf"
    assert client.get(url).status_code == 404  # private, not published
    set_deliberation_public(signature_id=signature.pk, is_public=True, actor=None)
    assert client.get(url).status_code == 404  # public, not published yet
    services.change_status(signature_id=signature.pk, action="approve")
    response = client.get(url)
    assert response.status_code == 200
    assert _content(response) == _pdf()
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"] == (
        f'inline; filename="deliberation-{signature.public_id}.pdf"'
    )
    set_deliberation_public(signature_id=signature.pk, is_public=False, actor=None)
    assert client.get(url).status_code == 404
    set_deliberation_public(signature_id=signature.pk, is_public=True, actor=None)
    services.change_status(signature_id=signature.pk, action="withdraw")
    assert client.get(url).status_code == 404


def test_no_static_or_media_url_serves_the_file(client, moderator_client):
    name = _attached().deliberation.name
    moderator_client.logout()
    for url in (f"/media/{name}", f"/static/{name}", f"/{name}", f"/private/{name}"):
        assert client.get(url).status_code == 404, url


def test_admin_shows_the_link_and_moderators_make_it_public_then_private(
    moderator_client, moderator
):
    signature = _attached()
    without = SignatureFactory(status="published")
    change = reverse("admin:signatures_signature_change", args=[signature.pk])
    html = moderator_client.get(change).content.decode()
    link = reverse("signatures:deliberation", args=[signature.public_id])
    assert f'<a href="{link}">Délibération : ouvrir (PDF)</a> — privée' in html
    assert signature.deliberation.name not in html  # no link to the stored file
    data = {"action": "make_deliberation_public", "_selected_action": [signature.pk, without.pk]}
    html = moderator_client.post(SIGNATURES, data, follow=True).content.decode()
    assert "1 délibération rendue publique." in html
    signature.refresh_from_db()
    assert signature.deliberation_is_public
    entry = LogEntry.objects.get(object_id=str(signature.pk))
    assert entry.user == moderator
    assert "délibération publique" in entry.get_change_message()
    assert "— publique" in moderator_client.get(change).content.decode()
    data["action"] = "make_deliberation_private"
    html = moderator_client.post(SIGNATURES, data, follow=True).content.decode()
    assert "1 délibération rendue privée." in html
    signature.refresh_from_db()
    assert not signature.deliberation_is_public


def test_staff_without_the_moderation_permission_cannot_make_it_public(client):
    signature = _attached()
    viewer = UserFactory(username="lecteur")
    viewer.user_permissions.add(Permission.objects.get(codename="view_signature"))
    client.force_login(viewer)
    assert 'value="make_deliberation_public"' not in client.get(SIGNATURES).content.decode()
    client.post(
        SIGNATURES, {"action": "make_deliberation_public", "_selected_action": [signature.pk]}
    )
    signature.refresh_from_db()
    assert not signature.deliberation_is_public


def test_anonymising_deletes_the_file_and_keeps_the_level(
    private_root, moderator, django_capture_on_commit_callbacks
):
    signature = _attached()
    review_deliberation(signature_id=signature.pk, outcome="accepted", actor=moderator)
    name = signature.deliberation.name
    set_deliberation_public(signature_id=signature.pk, is_public=True, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.anonymise_signature(signature_id=signature.pk, actor=None)
    signature.refresh_from_db()
    assert not (private_root / name).exists()
    assert not signature.deliberation
    assert not signature.deliberation_is_public
    assert signature.verification == Signature.Verification.DELIBERATION


def test_retention_erases_the_deliberation_with_the_signature(
    private_root, django_capture_on_commit_callbacks
):
    signature = _attached()
    name = signature.deliberation.name
    services.change_status(signature_id=signature.pk, action="withdraw")
    long_ago = timezone.now() - datetime.timedelta(days=400)
    Signature.objects.filter(pk=signature.pk).update(withdrawn_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        assert retention.erase_ended_signatures(timezone.now()) == 1
    assert not (private_root / name).exists()


def test_module_reads_private_root_at_each_call(settings, tmp_path):
    # The model field's storage was built at import; this module must not use it.
    settings.PRIVATE_ROOT = tmp_path / "ailleurs"
    name = _attached().deliberation.name
    assert (tmp_path / "ailleurs" / name).exists()
    assert private_storage().location == str(tmp_path / "ailleurs")


def test_accepting_records_the_decision_and_refreshes_the_counts(
    moderator, django_capture_on_commit_callbacks
):
    signature = _attached(SignatureFactory(status="published"))
    with django_capture_on_commit_callbacks(execute=True):
        assert review_deliberation(signature_id=signature.pk, outcome="accepted", actor=moderator)
    signature.refresh_from_db()
    assert signature.deliberation_review == "accepted"
    assert signature.deliberation_reviewed_at is not None
    assert signature.verification == Signature.Verification.DELIBERATION
    event = ModerationEvent.objects.get()
    assert (event.action, event.actor, event.from_status, event.to_status) == (
        "deliberation_ok",
        moderator,
        "published",
        "published",
    )
    stats = SignatureStats.objects.get(declaration=signature.declaration)
    assert stats.by_verification == {"deliberation": 1}
    # The same decision twice changes nothing and records nothing.
    assert not review_deliberation(signature_id=signature.pk, outcome="accepted", actor=moderator)
    assert ModerationEvent.objects.count() == 1


def test_refusing_keeps_the_level_hides_the_file_and_tells_the_signatory_why(
    moderator, mailoutbox, django_capture_on_commit_callbacks
):
    signature = _attached(SignatureFactory(status="published"))
    set_deliberation_public(signature_id=signature.pk, is_public=True, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert _refuse(signature, moderator, "other_territory", VOISINVILLE)
    signature.refresh_from_db()
    assert signature.deliberation_review == "refused"
    assert signature.deliberation_refusal_reason == "other_territory"
    assert signature.deliberation_refusal_note == VOISINVILLE
    assert signature.verification == Signature.Verification.EMAIL
    assert not signature.deliberation_is_public  # a refused document proves nothing publicly
    event = ModerationEvent.objects.get()
    assert (event.action, event.reason, event.note) == (
        "deliberation_no",
        "other_territory",
        VOISINVILLE,
    )
    event.refresh_from_db()
    assert event.notified_at is not None
    [email] = mailoutbox
    assert email.to == [signature.email]
    assert "délibération" in email.subject
    for body in (email.body, email.alternatives[0][0]):
        assert "Document d'un autre territoire" in unescape(body)
        assert VOISINVILLE in body


def test_review_leaves_a_signature_without_a_deliberation_alone(moderator):
    signature = SignatureFactory(status="published")
    assert not review_deliberation(signature_id=signature.pk, outcome="accepted", actor=moderator)
    signature.refresh_from_db()
    assert signature.deliberation_review == ""
    assert not ModerationEvent.objects.exists()


def test_a_new_upload_puts_a_refused_deliberation_back_in_review(moderator):
    signature = _attached(SignatureFactory(status="confirmed"))
    _refuse(signature, moderator, "illegible", "Illisible.")
    signature = _attached(signature)
    signature.refresh_from_db()
    assert signature.deliberation_review == "pending"
    assert signature.deliberation_reviewed_at is None
    assert (signature.deliberation_refusal_reason, signature.deliberation_refusal_note) == ("", "")


def _manage_text(client, signature) -> str:
    html = client.get(reverse("signatures:manage", args=[signature.make_manage_token()]))
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html.content.decode())).split())


def test_the_signatory_page_says_the_deliberation_awaits_review_then_why_it_was_refused(
    client, moderator
):
    signature = _attached(SignatureFactory(status="published"))
    assert "Votre délibération attend l'examen d'un modérateur" in _manage_text(client, signature)
    _refuse(signature, moderator, "illegible", "La page des signatures manque.")
    text = _manage_text(client, signature)
    assert (
        "Votre délibération n'a pas été retenue par la modération : "
        "Document illisible, incomplet ou non signé. La page des signatures manque."
    ) in text
    assert "attend l'examen" not in text
