"""The security probe's findings, each tested as the class it belongs to.

Numbers refer to the findings listed in docs/security.md.
"""

import csv
import io
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from django import forms
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse

from signatures import services
from signatures.forms import ContestForm, ResendForm, SignatureForm
from signatures.models import Contest, Flag, ModerationEvent, Signature
from signatures.text import FORMULA_PREFIXES, spreadsheet_safe
from territories.models import Territory
from tests.factories import (
    SignatureFactory,
    TerritoryFactory,
    fake_siren,
    form_started_stamp,
    signature_form_data,
)

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent

# One digit of each script Python counts as decimal, for "5": the same number to a person.
FIVES = [
    chr(c) for c in range(0x110000) if unicodedata.decimal(chr(c), None) == 5 and chr(c) != "5"
]


def _sign(client, declaration, **data):
    return client.post(
        reverse("signatures:sign", args=[declaration.slug]), signature_form_data(**data)
    )


# 1 and 4. Spreadsheet formulas and control characters, in every export.

DANGEROUS = [f'{prefix}HYPERLINK("http://evil.example","x")' for prefix in FORMULA_PREFIXES]


@pytest.mark.parametrize(
    "value", [*DANGEROUS, "ok\x01\x1fcontrol", "\x01=HYPERLINK(1)", "\ufffe+1", "Noël\xa0=1"]
)
def test_spreadsheet_safe_never_leaves_a_formula_or_an_illegal_character(value):
    safe = spreadsheet_safe(value)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert not any(ord(char) < 0x20 and char not in "\t\n\r" for char in safe)
    assert not {"\ufffe", "\uffff"} & set(safe)


def _published_with(declaration, **fields):
    """A published signature whose stored text (bypassing the form) holds `fields`."""
    return SignatureFactory(declaration=declaration, status="published", **fields)


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_public_csv_has_no_formula_in_any_column(client, declaration, prefix):
    payload = f'{prefix}HYPERLINK("http://evil.example")'
    territory = TerritoryFactory(name=payload, siren=None)
    _published_with(
        declaration,
        territory=territory,
        first_name=payload,
        last_name=payload,
        function="autre",
        function_other=payload,
        comment=payload,
    )
    response = client.get(reverse("public:csv", args=[declaration.slug]))
    text = response.getvalue().decode().lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))[1:]
    assert rows
    for cell in rows[0]:
        assert not cell.startswith(FORMULA_PREFIXES), cell
    assert f"'{payload}" in rows[0]


def _staff_export(client, file_format: int) -> bytes:
    url = reverse("admin:signatures_signature_export")
    response = client.post(url, {"format": file_format, "export_items": []})
    if response.status_code != 200:  # older forms post the resource too
        response = client.post(url, {"format": file_format, "resource": 0})
    assert response.status_code == 200
    return response.content


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_staff_csv_and_xlsx_exports_have_no_formula_in_any_column(
    admin_client, declaration, prefix
):
    payload = f'{prefix}HYPERLINK("http://evil.example")'
    _published_with(
        declaration,
        first_name=payload,
        last_name=payload,
        function="autre",
        function_other=payload,
        comment=f"{payload}\x0b with a vertical tab",
        phone=f"{prefix}33",
        user_agent=payload,
    )
    csv_text = _staff_export(admin_client, 0).decode("utf-8-sig")
    csv_rows = list(csv.reader(io.StringIO(csv_text, newline="")))
    workbook = openpyxl.load_workbook(io.BytesIO(_staff_export(admin_client, 1)))
    xlsx_rows = [
        ["" if cell.value is None else str(cell.value) for cell in row]
        for row in workbook.active.iter_rows()
    ]
    for rows in (csv_rows, xlsx_rows):
        header, first = rows[0], rows[1]
        assert len(rows) == 2
        for name, cell in zip(header, first, strict=True):
            assert not cell.startswith(FORMULA_PREFIXES), (name, cell)
        # Line ends may come back as "\n" from either file format: compare without them.
        assert f"'{payload}".replace("\r", "\n") in [c.replace("\r", "\n") for c in first]
    # openpyxl marks formulas with data_type "f": none anywhere.
    assert all(cell.data_type != "f" for row in workbook.active.iter_rows() for cell in row)


@pytest.mark.parametrize("field", ["first_name", "last_name", "function_other", "unlisted_name"])
@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])
def test_form_refuses_a_leading_formula_character_in_names(declaration, field, prefix):
    data = signature_form_data(function="autre", function_other="Maire")
    data[field] = f"{prefix}1+1"
    form = SignatureForm(data, declaration=declaration)
    assert not form.is_valid()
    assert "premier caractère" in str(form.errors[field])


# 2. Identifiers are ASCII digits, whatever digits were typed.


def test_every_unicode_five_is_folded_before_the_siren_lookup(client, declaration):
    assert len(FIVES) > 50  # the class: every script, not one example
    existing = TerritoryFactory(kind="petr", siren=fake_siren(5), name="Pays existant")
    departement = TerritoryFactory(kind="departement")
    for five in FIVES:
        siren = existing.siren.replace("5", five)
        if siren == existing.siren:
            continue
        form = SignatureForm(
            signature_form_data(
                not_listed="on",
                unlisted_kind="petr",
                unlisted_name="Pays copié",
                unlisted_siren=siren,
                unlisted_departement=departement.pk,
            ),
            declaration=declaration,
        )
        assert form.is_valid(), (five, form.errors)
        assert form.cleaned_data["unlisted_siren"] == existing.siren
        assert form.resolved_territory() == existing
    assert Territory.objects.filter(name="Pays copié").count() == 0


def test_signing_with_foreign_digits_never_creates_a_second_territory(client, declaration):
    departement = TerritoryFactory(kind="departement")
    siren = fake_siren(7)
    for digits in (siren, siren.translate(str.maketrans("0123456789", "０１２３４５６７８９"))):
        _sign(
            client,
            declaration,
            not_listed="on",
            unlisted_kind="petr",
            unlisted_name="Pays de Toulouse",
            unlisted_siren=digits,
            unlisted_departement=departement.pk,
            email=f"{len(digits)}-{digits.isascii()}@pays-toulouse.fr",
        )
    assert Territory.objects.filter(name="Pays de Toulouse").count() == 1
    assert Territory.objects.get(name="Pays de Toulouse").siren == siren


@pytest.mark.parametrize(
    ("field", "value"),
    [("siren", "３１５５５３８４２"), ("siren", "31555384²"), ("code", "٣١٥٥٥"), ("code", "ab1")],
)
def test_database_refuses_non_ascii_identifiers(field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        TerritoryFactory(**{field: value})


def test_database_refuses_non_ascii_postal_codes():
    with pytest.raises(IntegrityError), transaction.atomic():
        TerritoryFactory(postal_codes="31000 ３１２００")


@pytest.mark.parametrize("field", ["territory", "unlisted_departement", "networks"])
def test_ids_in_forms_are_ascii_digits_only(declaration, field):
    territory = TerritoryFactory(kind="departement")
    foreign = str(territory.pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    data = signature_form_data(territory=territory.pk)
    data[field] = foreign
    if field == "unlisted_departement":
        data.update(not_listed="on", unlisted_kind="petr", unlisted_name="P", unlisted_siren="1")
    form = SignatureForm(data, declaration=declaration)
    assert not form.is_valid()
    assert field in form.errors


# 3. No accepted input is too long for its column; no input gives a 5xx.


def _model_field_for(form_class, name):
    mapping = {
        SignatureForm: (Signature, {}),
        ContestForm: (Contest, {}),
        ResendForm: (Signature, {}),
    }
    model, renames = mapping[form_class]
    try:
        return model._meta.get_field(renames.get(name, name))
    except Exception:  # noqa: BLE001 - a form field with no column (search box, honeypot)
        return None


@pytest.mark.parametrize("form_class", [SignatureForm, ContestForm, ResendForm])
def test_every_length_a_form_accepts_fits_its_column(form_class, declaration):
    form = form_class(declaration=declaration) if form_class is SignatureForm else form_class()
    checked = 0
    for name, field in form.fields.items():
        column = _model_field_for(form_class, name)
        if column is None or not isinstance(field, forms.CharField):
            continue
        assert field.max_length is not None, name
        if column.max_length is not None:
            assert field.max_length <= column.max_length, (name, field.max_length)
        checked += 1
    assert checked >= 1


def test_the_longest_phone_the_form_accepts_is_saved(client, declaration, territory):
    phone = "+33 (0)5 61 22 29 22 01"  # 23 characters, 15 digits
    assert _sign(client, declaration, territory=territory.pk, phone=phone).status_code == 302
    assert Signature.objects.get().phone == phone


@pytest.mark.parametrize(
    "path",
    [
        "/api/declarations/%00",
        "/api/declarations/alliance-test/signatures?cursor=%00",
        "/api/declarations/alliance-test/signatures?q=%00&region=%00",
        "/declarations/alliance-test/signataires/?q=%00&page=%00&region=%00",
        "/declarations/alliance-test/signataires/nouvelles/?depuis=%00",
        "/declarations/alliance-test/signataires.csv?departement=%00",
        "/territoires/recherche/?q=%00",
        "/signatures/confirmer/%00/",
        "/signatures/contester/%00/",
    ],
)
def test_nul_bytes_in_urls_never_give_a_server_error(client, declaration, path):
    response = client.get(path)
    assert response.status_code < 500


def test_nul_bytes_in_a_submitted_form_are_refused_next_to_the_field(
    client, declaration, territory
):
    response = _sign(client, declaration, territory=territory.pk, last_name="Dur\x00and")
    assert response.status_code == 400
    assert "caractères invisibles ou de contrôle" in response.content.decode()
    assert Signature.objects.count() == 0


# 5. Emails per recipient are capped, whatever the source.


def test_one_address_gets_a_handful_of_emails_whatever_the_ip(
    client, declaration, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.EMAIL_CAP_PER_HOUR = 5
    victim = "victime@collectivite-test.fr"
    territories = TerritoryFactory.create_batch(20)
    for number, territory in enumerate(territories):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("signatures:sign", args=[declaration.slug]),
                signature_form_data(territory=territory.pk, email=victim),
                REMOTE_ADDR=f"198.51.100.{number}",
            )
        assert response.status_code == 302
    assert Signature.objects.filter(email=victim).count() == 20  # every signature is kept
    assert len(mailoutbox) == 5
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("signatures:resend"), {"email": victim}, REMOTE_ADDR="203.0.113.9")
    assert len(mailoutbox) == 5  # the resend is capped too


# 6 and 7. Production settings: forwarded headers and the site's address.


def _settings_value(expression: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SITE_URL", "TRUSTED_PROXY_COUNT", "SECRET_KEY"}
    }
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'alliance.settings'; "
        f"from django.conf import settings; print({expression})"
    )
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, "DEBUG": "0", "SECRET_KEY": "x" * 50, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_forwarded_proto_is_trusted_only_behind_a_proxy():
    site = {"SITE_URL": "https://alliance.example.org"}
    alone = _settings_value("settings.SECURE_PROXY_SSL_HEADER", TRUSTED_PROXY_COUNT="0", **site)
    behind = _settings_value("settings.SECURE_PROXY_SSL_HEADER", TRUSTED_PROXY_COUNT="1", **site)
    assert alone.stdout.strip() == "None"
    assert behind.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_forwarded_proto_without_proxy_does_not_skip_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = None  # what TRUSTED_PROXY_COUNT=0 gives
    response = client.get("/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@pytest.mark.parametrize("site_url", [None, "", "http://alliance.example.org", "https://"])
def test_production_refuses_to_start_without_an_https_site_url(site_url):
    env = {} if site_url is None else {"SITE_URL": site_url}
    result = _settings_value("settings.SITE_URL", **env)
    assert result.returncode != 0
    assert "SITE_URL must be set" in result.stderr


def test_production_derives_csrf_origins_from_the_site_url():
    result = _settings_value(
        "settings.CSRF_TRUSTED_ORIGINS", SITE_URL="https://alliance.example.org/"
    )
    assert result.stdout.strip() == "['https://alliance.example.org']"


# 8. Unicode is stored in one canonical form, without invisible characters.

INVISIBLE = {
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "bell": "\x07",
    "escape": "\x1b",
    "private use": "\ue000",
}


@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
@pytest.mark.parametrize("field", ["first_name", "last_name", "function_other", "comment"])
def test_invisible_characters_are_refused_next_to_the_field_and_nothing_is_lost(
    client, declaration, territory, char, field
):
    value = f"Jean{char}ne"
    response = _sign(
        client, declaration, territory=territory.pk, function="autre", **{field: value}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "caractères invisibles ou de contrôle" in html
    assert f"U+{ord(char):04X}" in html
    assert Signature.objects.count() == 0
    assert 'value="camille.durand@mairie-test.fr"' in html  # the rest of the form is kept


def test_names_are_stored_composed_and_folded(client, declaration, territory):
    decomposed = unicodedata.normalize("NFD", "Hélène")
    _sign(
        client,
        declaration,
        territory=territory.pk,
        first_name=decomposed,
        last_name="Ｄｕｒａｎｄ",
        comment=unicodedata.normalize("NFD", "Très bien"),
    )
    signature = Signature.objects.get()
    assert signature.first_name == "Hélène"
    assert signature.last_name == "Durand"
    assert signature.comment == "Très bien"


@pytest.mark.parametrize(
    "value", ["https://spam.example", "www.spam.example", "<b>Jean</b>", "[url]x[/url]"]
)
def test_links_and_markup_are_refused_in_names(declaration, value):
    form = SignatureForm(signature_form_data(last_name=value), declaration=declaration)
    assert not form.is_valid()
    assert "ni lien ni balise" in str(form.errors["last_name"])


# 9. Nothing public or emailed tells how many submissions exist.


def test_public_references_are_opaque(client, declaration, mailoutbox, territory):
    _sign(client, declaration, territory=territory.pk)
    signature = Signature.objects.get()
    token = signature.make_confirmation_token()
    payload = signing.loads(token, salt="signatures.confirmation")
    assert payload == {"s": signature.public_id}  # the public id alone: no primary key
    assert len(signature.public_id) >= 16
    other = SignatureFactory()
    assert other.public_id != signature.public_id


def test_public_list_and_api_use_the_public_id(client, declaration):
    signature = SignatureFactory(declaration=declaration, status="published")
    html = client.get(reverse("public:list", args=[declaration.slug])).content.decode()
    assert f'id="signature-{signature.public_id}"' in html
    assert f'id="signature-{signature.pk}"' not in html
    rows = client.get(f"/api/declarations/{declaration.slug}/signatures").json()["results"]
    assert [row["id"] for row in rows] == [signature.public_id]


# 10. A username attacked from many addresses is locked too.


def test_a_username_attacked_from_many_addresses_is_locked(client, settings, moderator):
    settings.AXES_FAILURE_LIMIT = 3
    for number in range(3):
        client.post(
            reverse("admin:login"),
            {"username": moderator.username, "password": "faux"},
            REMOTE_ADDR=f"198.51.100.{number}",
        )
    response = client.post(
        reverse("admin:login"),
        {"username": moderator.username, "password": "mot-de-passe-de-test"},
        REMOTE_ADDR="203.0.113.50",
    )
    assert response.status_code == 429  # locked, even with the right password, from elsewhere


# Silent suspects.


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"website": "http://spam.example"}, "champ piège"),
        ({"started": ""}, "sans passer par le formulaire"),
        ({"started": "forged"}, "sans passer par le formulaire"),
    ],
    ids=["honeypot", "no-stamp", "forged-stamp"],
)
def test_suspect_submissions_see_the_usual_page_and_get_no_email(
    client, declaration, territory, mailoutbox, django_capture_on_commit_callbacks, data, reason
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign(client, declaration, territory=territory.pk, **data)
    assert response.status_code == 302
    assert response["Location"] == reverse("signatures:check_inbox", args=[declaration.slug])
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.SUSPECT
    assert reason in signature.flags.get(code=Flag.Code.SUSPECT).detail
    assert mailoutbox == []


def test_filling_the_form_at_robot_speed_is_suspect(client, declaration, territory, mailoutbox):
    _sign(client, declaration, territory=territory.pk, started=form_started_stamp(0))
    assert Signature.objects.get().status == Signature.Status.SUSPECT


def test_a_fast_but_human_fill_is_only_flagged(
    client, declaration, territory, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the flags' task
        _sign(client, declaration, territory=territory.pk, started=form_started_stamp(1))
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    assert signature.flags.filter(code=Flag.Code.TOO_FAST).exists()


def test_over_the_rate_limit_submissions_are_kept_as_suspect(client, declaration, mailoutbox):
    territories = TerritoryFactory.create_batch(22)
    for number, territory in enumerate(territories):
        response = _sign(
            client, declaration, territory=territory.pk, email=f"n{number}@commune-test.fr"
        )
        assert response.status_code == 302
    statuses = list(Signature.objects.order_by("pk").values_list("status", flat=True))
    assert statuses[:20] == ["pending"] * 20
    assert statuses[20:] == ["suspect"] * 2


def test_far_over_the_rate_limit_requests_are_refused_cheaply(client, declaration, territory):
    url = reverse("signatures:sign", args=[declaration.slug])
    for _ in range(60):
        client.post(url, {"first_name": "x"})
    response = client.post(url, signature_form_data(territory=territory.pk))
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/plain")


def test_a_suspect_signature_is_never_public_never_counted_and_never_blocks(
    client, declaration, territory
):
    suspect = SignatureFactory(declaration=declaration, territory=territory, status="suspect")
    assert not Signature.objects.live().filter(pk=suspect.pk).exists()
    assert not Signature.objects.published().filter(pk=suspect.pk).exists()
    assert _sign(client, declaration, territory=territory.pk).status_code == 302
    assert Signature.objects.filter(territory=territory, status="pending").count() == 1


def test_moderator_releases_a_suspect_signature_and_it_gets_its_link(
    moderator_client, declaration, territory, mailoutbox, django_capture_on_commit_callbacks
):
    suspect = SignatureFactory(declaration=declaration, territory=territory, status="suspect")
    with django_capture_on_commit_callbacks(execute=True):
        moderator_client.post(
            reverse("admin:signatures_moderationqueue_changelist"),
            {"action": "release", "_selected_action": [suspect.pk]},
        )
    suspect.refresh_from_db()
    assert suspect.status == Signature.Status.PENDING
    assert [message.to for message in mailoutbox] == [[suspect.email]]
    assert suspect.events.get().action == ModerationEvent.Action.RELEASE


def test_moderation_queue_shows_suspect_signatures_after_confirmed_ones(
    moderator_client, declaration
):
    suspect = SignatureFactory(declaration=declaration, status="suspect", last_name="Suspecte")
    confirmed = SignatureFactory(
        declaration=declaration, status="confirmed", last_name="Confirmée"
    )
    html = moderator_client.get(
        reverse("admin:signatures_moderationqueue_changelist")
    ).content.decode()
    assert html.index(confirmed.last_name) < html.index(suspect.last_name)


# Trending sources and invalidation by condition.


def test_trending_sources_list_a_domain_signing_for_many_territories(
    moderator_client, declaration
):
    for _ in range(4):
        SignatureFactory(declaration=declaration, email=f"x{_}@ferme-a-clics.example")
    SignatureFactory(declaration=declaration, email="seule@mairie-test.fr")
    html = moderator_client.get(
        reverse("admin:signatures_signature_sources"), {"declaration": declaration.pk, "hours": 24}
    ).content.decode()
    assert "ferme-a-clics.example" in html
    assert "mairie-test.fr" not in html


def test_invalidation_by_source_previews_the_count_then_rejects_with_an_audit_trail(
    moderator_client, declaration, django_capture_on_commit_callbacks
):
    bad = [
        SignatureFactory(declaration=declaration, email=f"x{n}@ferme.example", status=status)
        for n, status in enumerate(["pending", "confirmed", "published", "suspect"])
    ]
    good = SignatureFactory(declaration=declaration, email="maire@commune-test.fr")
    start, end = bad[0].submitted_at.replace(year=2000), bad[0].submitted_at.replace(year=2100)
    query = {
        "declaration": declaration.pk,
        "field": "email_domain",
        "value": "ferme.example",
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    url = reverse("admin:signatures_signature_invalidate")
    preview = moderator_client.get(url, query).content.decode()
    assert "4 signatures seront refusées" in preview
    assert Signature.objects.filter(status="rejected").count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        moderator_client.post(url, {**query, "note": "ferme à clics", "confirm": "1"})
    for signature in bad:
        signature.refresh_from_db()
        assert signature.status == Signature.Status.REJECTED
        event = signature.events.get(action=ModerationEvent.Action.REJECT)
        assert "ferme.example" in event.note
        assert "ferme à clics" in event.note
    good.refresh_from_db()
    assert good.status == Signature.Status.PENDING


# Contesting a squatted territory.


def test_already_signed_message_offers_to_contest(client, declaration, territory):
    live = SignatureFactory(declaration=declaration, territory=territory, status="published")
    html = _sign(client, declaration, territory=territory.pk).content.decode()
    assert "Ce n&#x27;est pas nous ?" in html or "Ce n'est pas nous ?" in html
    assert reverse("signatures:contest", args=[live.public_id]) in html


def test_contest_reaches_moderators_and_the_decision_reaches_the_contester(
    client,
    moderator,
    moderator_client,
    declaration,
    territory,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    squatter = SignatureFactory(declaration=declaration, territory=territory, status="published")
    other = SignatureFactory(declaration=declaration, status="confirmed")
    url = reverse("signatures:contest", args=[squatter.public_id])
    assert "Ce n'est pas nous ?" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "first_name": "Sacha",
                "last_name": "Maire",
                "function": "Maire",
                "email": "maire@testville.fr",
                "message": "Nous n'avons jamais signé.",
            },
        )
    assert response.status_code == 302
    contest = Contest.objects.get()
    assert squatter.flags.filter(code=Flag.Code.CONTESTED).exists()
    recipients = sorted(address for message in mailoutbox for address in message.to)
    assert recipients == sorted([moderator.email, "maire@testville.fr"])
    queue = moderator_client.get(
        reverse("admin:signatures_moderationqueue_changelist")
    ).content.decode()
    assert queue.index(squatter.last_name) < queue.index(other.last_name)  # contested first

    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(
            signature_id=squatter.pk, action="reject", actor=moderator, reason="abusive"
        )
    contest.refresh_from_db()
    assert contest.outcome == Contest.Outcome.UPHELD
    answer = next(m for m in mailoutbox if m.to == ["maire@testville.fr"])
    assert "vous ont donné raison" in answer.body
    assert not squatter.flags.filter(code=Flag.Code.CONTESTED).exists()


def test_moderator_keeps_a_contested_signature_and_the_contester_is_told(
    moderator_client, declaration, territory, mailoutbox, django_capture_on_commit_callbacks
):
    signature = SignatureFactory(declaration=declaration, territory=territory, status="published")
    services.contest_signature(
        signature_id=signature.pk,
        contester=services.Contester(
            first_name="Sacha", last_name="Autre", function="DGS", email="dgs@testville.fr"
        ),
        source=services.Source(ip="192.0.2.1"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        moderator_client.post(
            reverse("admin:signatures_moderationqueue_changelist"),
            {"action": "keep_contested", "_selected_action": [signature.pk]},
        )
    assert Contest.objects.get().outcome == Contest.Outcome.DISMISSED
    assert any(
        "maintenu la signature" in m.body for m in mailoutbox if m.to == ["dgs@testville.fr"]
    )
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PUBLISHED


def test_contesting_is_only_for_live_signatures(client, declaration):
    pending = SignatureFactory(declaration=declaration)
    response = client.get(reverse("signatures:contest", args=[pending.public_id]))
    assert response.status_code == 404
