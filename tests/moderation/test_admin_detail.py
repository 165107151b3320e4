"""A signature's page in the admin: its decisions, the SIRENE link, and French everywhere.

Decisions taken on the page go through the same service as the list's actions: these
tests check what a moderator sees and what each decision leaves behind (status, audit
event, email after commit), and that nobody else, and no wrong status, gets through.
"""

import re
from html import unescape

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.contrib.auth.models import Permission
from django.forms.utils import pretty_name
from django.urls import reverse
from django.utils.functional import Promise
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from signatures import services
from signatures.models import ModerationEvent, Signature
from territories.models import TerritoryDomain
from tests.factories import (
    DemandFactory,
    FounderFactory,
    SignatureFactory,
    TerritoryFactory,
    UserFactory,
    fake_siren,
)

pytestmark = pytest.mark.django_db

SIRENE = "https://annuaire-entreprises.data.gouv.fr/entreprise/"


def _page(signature, admin_name="signature") -> str:
    return reverse(f"admin:signatures_{admin_name}_change", args=[signature.pk])


def _decide(signature, admin_name="signature") -> str:
    return reverse(f"admin:signatures_{admin_name}_decide", args=[signature.pk])


def _buttons(html: str) -> set[str]:
    """The decisions the page offers, by the value each form posts."""
    return set(re.findall(r'name="decision" value="(\w+)"', html))


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def confirmed(declaration, territory):
    return SignatureFactory(
        declaration=declaration, territory=territory, status="confirmed", first_name="Camille"
    )


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        ("confirmed", {"approve", "reject"}),
        ("suspect", {"release", "reject"}),
        ("pending", {"reject"}),
        ("published", {"reject"}),
        ("rejected", {"approve"}),
        ("withdrawn", set()),
    ],
)
def test_signature_page_offers_only_the_decisions_its_status_allows(
    moderator_client, status, offered
):
    signature = SignatureFactory(status=status)
    html = moderator_client.get(_page(signature)).content.decode()
    assert _buttons(html) == offered
    assert '<h2 id="signature-decisions-title">Décision</h2>' in html
    if offered:
        assert f'action="{_decide(signature)}"' in html
    else:
        assert "Aucune décision de publication ne s'applique à ce statut" in html
    if "reject" in offered:
        assert "Structure non éligible (pas une collectivité territoriale)" in html


def test_signature_page_publishes_and_emails_after_commit(
    moderator_client, moderator, confirmed, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = moderator_client.post(_decide(confirmed), {"decision": "approve"})
    assert mailoutbox == []  # nothing leaves before the transaction commits
    for callback in callbacks:
        callback()

    assert response.status_code == 302
    assert response["Location"] == _page(confirmed)
    confirmed.refresh_from_db()
    assert confirmed.status == Signature.Status.PUBLISHED
    assert confirmed.published_at is not None
    event = confirmed.events.get()
    assert (event.action, event.actor, event.from_status, event.to_status) == (
        "approve",
        moderator,
        "confirmed",
        "published",
    )
    assert [m.to for m in mailoutbox] == [[confirmed.email]]
    assert mailoutbox[0].subject.startswith("Votre signature est publiée")
    page = moderator_client.get(response["Location"])
    assert _messages(page) == [
        "Signature publiée pour Métropole de Testville ; le signataire est prévenu par e-mail."
    ]
    assert _buttons(page.content.decode()) == {"reject"}


def test_signature_page_rejects_as_not_eligible_with_a_note(
    moderator_client, moderator, confirmed, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(
            _decide(confirmed),
            {
                "decision": "reject",
                "reject-reason": "not_eligible",
                "reject-note": "Une association n'est pas une collectivité.",
            },
            follow=True,
        )
    confirmed.refresh_from_db()
    assert confirmed.status == Signature.Status.REJECTED
    event = confirmed.events.get(action="reject")
    assert (event.actor, event.reason, event.note) == (
        moderator,
        "not_eligible",
        "Une association n'est pas une collectivité.",
    )
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.subject.startswith("Votre signature n'a pas été retenue")
    assert "Structure non éligible (pas une collectivité territoriale)" in message.body
    assert "Une association n'est pas une collectivité." in message.body
    assert _messages(response) == [
        "Signature refusée pour Métropole de Testville ; le signataire reçoit le motif par e-mail."
    ]


def test_signature_page_releases_a_suspect_with_its_confirmation_link(
    moderator_client,
    moderator,
    declaration,
    territory,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    suspect = SignatureFactory(declaration=declaration, territory=territory, status="suspect")
    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(_decide(suspect), {"decision": "release"}, follow=True)
    suspect.refresh_from_db()
    assert suspect.status == Signature.Status.PENDING
    event = suspect.events.get()
    assert (event.action, event.actor, event.from_status) == ("release", moderator, "suspect")
    assert [m.to for m in mailoutbox] == [[suspect.email]]
    assert mailoutbox[0].subject.startswith("Confirmez la signature de votre territoire")
    assert "le lien de confirmation est envoyé au signataire" in _messages(response)[0]


def test_an_incomplete_refusal_asks_again_then_goes_through(moderator_client, confirmed):
    response = moderator_client.post(
        _decide(confirmed) + "?_changelist_filters=status__exact%3Dconfirmed",
        {"decision": "reject", "reject-reason": "other", "reject-note": ""},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Précisez le motif." in html
    assert 'value="other" selected' in html  # what was chosen is kept
    form_action = re.search(r'<form method="post" action="([^"]+)"', html).group(1)
    assert unescape(form_action).startswith(_decide(confirmed))
    confirmed.refresh_from_db()
    assert confirmed.status == Signature.Status.CONFIRMED
    assert not confirmed.events.exists()

    response = moderator_client.post(
        unescape(form_action),
        {"decision": "reject", "reject-reason": "other", "reject-note": "Doublon manifeste."},
    )
    assert response["Location"] == (
        _page(confirmed) + "?_changelist_filters=status__exact%3Dconfirmed"
    )
    confirmed.refresh_from_db()
    assert confirmed.status == Signature.Status.REJECTED


def test_refusal_needs_a_reason(moderator_client, confirmed):
    response = moderator_client.post(_decide(confirmed), {"decision": "reject"})
    assert "Ce champ est obligatoire." in response.content.decode()
    confirmed.refresh_from_db()
    assert confirmed.status == Signature.Status.CONFIRMED


@pytest.mark.parametrize(
    ("status", "decision"),
    [
        ("pending", "approve"),
        ("published", "approve"),
        ("withdrawn", "reject"),
        ("confirmed", "release"),
        ("rejected", "release"),
    ],
)
def test_signature_page_refuses_a_decision_its_status_does_not_allow(
    moderator_client, mailoutbox, django_capture_on_commit_callbacks, status, decision
):
    signature = SignatureFactory(status=status)
    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(
            _decide(signature),
            {"decision": decision, "reject-reason": "duplicate"},
            follow=True,
        )
    signature.refresh_from_db()
    assert signature.status == status
    assert not signature.events.exists()
    assert mailoutbox == []
    label = Signature.Status(status).label
    assert _messages(response) == [
        f"Décision impossible : le statut de la signature ({label}) ne le permet pas."
    ]


def test_releasing_a_suspect_twin_of_a_pending_signature_says_why_not(moderator_client):
    pending = SignatureFactory(status="pending", email="elu@mairie.fr")
    suspect = SignatureFactory(
        declaration=pending.declaration,
        territory=pending.territory,
        status="suspect",
        email="elu@mairie.fr",
    )
    response = moderator_client.post(_decide(suspect), {"decision": "release"}, follow=True)
    suspect.refresh_from_db()
    assert suspect.status == Signature.Status.SUSPECT
    assert _messages(response) == [
        "Décision impossible : la même adresse a déjà une signature en attente de confirmation "
        "pour ce territoire."
    ]


def test_signature_page_refuses_to_publish_a_territory_already_signed(moderator_client):
    published = SignatureFactory(status="published")
    rejected = SignatureFactory(
        declaration=published.declaration, territory=published.territory, status="rejected"
    )
    response = moderator_client.post(_decide(rejected), {"decision": "approve"}, follow=True)
    rejected.refresh_from_db()
    assert rejected.status == Signature.Status.REJECTED
    assert _messages(response) == [
        f"Décision refusée : {published.territory.name} a déjà une signature publiée ou confirmée."
    ]


def test_decision_from_the_queue_returns_to_the_queue_once_decided(moderator_client, confirmed):
    assert _buttons(moderator_client.get(_page(confirmed, "moderationqueue")).content.decode())
    response = moderator_client.post(
        _decide(confirmed, "moderationqueue") + "?_changelist_filters=q%3DTestville",
        {"decision": "approve"},
    )
    assert response["Location"] == (
        reverse("admin:signatures_moderationqueue_changelist") + "?q=Testville"
    )
    confirmed.refresh_from_db()
    assert confirmed.status == Signature.Status.PUBLISHED


def test_staff_without_the_moderation_permission_cannot_decide(client, confirmed):
    viewer = UserFactory(username="lecteur")
    viewer.user_permissions.add(Permission.objects.get(codename="view_signature"))
    client.force_login(viewer)
    html = client.get(_page(confirmed)).content.decode()
    assert "signature-decisions" not in html
    assert _buttons(html) == set()
    response = client.post(_decide(confirmed), {"decision": "approve"})
    assert response.status_code == 403
    confirmed.refresh_from_db()
    assert confirmed.status == Signature.Status.CONFIRMED
    assert not ModerationEvent.objects.exists()


def test_decide_view_refuses_visitors_get_unknown_decisions_and_missing_csrf(
    client, moderator, confirmed
):
    response = client.post(_decide(confirmed), {"decision": "approve"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    client.force_login(moderator)
    assert client.get(_decide(confirmed)).status_code == 405
    assert client.post(_decide(confirmed), {"decision": "withdraw"}).status_code == 400
    missing = reverse("admin:signatures_signature_decide", args=[999_999])
    assert client.post(missing, {"decision": "approve"}).status_code == 404
    client.handler.enforce_csrf_checks = True
    assert client.post(_decide(confirmed), {"decision": "approve"}).status_code == 403
    confirmed.refresh_from_db()
    assert confirmed.status == Signature.Status.CONFIRMED


def test_decide_view_needs_the_second_factor_when_required(moderator_client, confirmed, settings):
    settings.STAFF_REQUIRE_2FA = True  # the moderator's session has no verified device
    response = moderator_client.post(_decide(confirmed), {"decision": "approve"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    confirmed.refresh_from_db()
    assert confirmed.status == Signature.Status.CONFIRMED


def _sirene_links(html: str) -> list[str]:
    return re.findall(rf'<a href="{re.escape(SIRENE)}[^"]*"[^>]*>[^<]*</a>', html)


def test_signature_page_links_to_the_sirene_record_in_a_new_tab(moderator_client, confirmed):
    html = moderator_client.get(_page(confirmed)).content.decode()
    siren = confirmed.territory.siren
    assert _sirene_links(html) == [
        f'<a href="{SIRENE}{siren}" target="_blank" rel="noopener">'
        f"SIREN {siren} sur l&#x27;Annuaire des entreprises (nouvel onglet)</a>"
    ]


def test_signature_page_links_to_the_siren_an_unlisted_territory_was_given(
    moderator_client, declaration
):
    departement = TerritoryFactory(kind="departement", code="B31", name="Département test")
    territory = services.get_or_create_unlisted_territory(
        services.UnlistedTerritory(
            kind="petr", name="PETR du Pays test", siren=fake_siren(77), departement=departement
        )
    )
    signature = SignatureFactory(declaration=declaration, territory=territory, status="confirmed")
    html = moderator_client.get(_page(signature)).content.decode()
    assert f'href="{SIRENE}{fake_siren(77)}"' in html


def test_signature_page_has_no_sirene_link_without_a_siren(moderator_client):
    signature = SignatureFactory(territory=TerritoryFactory(kind="commune", siren=None))
    html = moderator_client.get(_page(signature)).content.decode()
    assert _sirene_links(html) == []
    assert SIRENE not in html
    assert "SIREN inconnu" in html


def test_admin_titles_read_naturally_in_french(moderator_client, confirmed):
    html = moderator_client.get(reverse("admin:signatures_moderationqueue_changelist")).content
    html = html.decode()
    assert "<title>Signatures à modérer | Alliance des territoires</title>" in html
    assert "<h1>Signatures à modérer</h1>" in html
    assert "1 signature à modérer" in html  # under the list
    page = unescape(moderator_client.get(_page(confirmed)).content.decode())
    name = str(confirmed)
    assert f"<title>Signature « {name} » | Alliance des territoires</title>" in page
    assert f"<h1>Signature « {name} »</h1>" in page
    app = moderator_client.get(reverse("admin:app_list", args=["signatures"])).content.decode()
    assert "<title>Signatures | Alliance des territoires</title>" in app
    services.change_status(signature_id=confirmed.pk, action="approve")
    services.change_status(signature_id=confirmed.pk, action="reject")
    journal = moderator_client.get(reverse("admin:signatures_moderationevent_changelist"))
    assert "2 entrées" in journal.content.decode()  # not "2 journal de modération"


def test_add_and_popup_pages_are_titled_in_french(admin_client):
    add = admin_client.get(reverse("admin:territories_territorydomain_add")).content.decode()
    assert "<h1>Ajouter : domaine e-mail officiel</h1>" in add
    assert "<title>Ajouter : domaine e-mail officiel | Alliance des territoires</title>" in add
    popup = admin_client.get(
        reverse("admin:territories_territory_changelist"), {"_popup": "1", "_to_field": "id"}
    ).content.decode()
    assert "<h1>Choisir : territoire</h1>" in popup


# --- Every label of the admin in French -------------------------------------------------

OUR_APPS = ("core", "declarations", "territories", "signatures")
# Registered by libraries whose labels we cannot set: django-axes and django-otp ship
# their own (partly English) wording. Only superusers see them; their pages must still load.
LIBRARY_APPS = ("axes", "otp_totp", "otp_static")
# Field names that are the same word in French and English.
SAME_IN_FRENCH = {
    "action",
    "date",
    "description",
    "message",
    "permissions",
    "signature",
    "siren",
    "source",
    "version",
}


def _auto_label(name: str) -> str:
    """What Django shows for a field or column nobody named: "confirmation queued at"."""
    return pretty_name(name).lower()


@pytest.mark.parametrize(
    "model",
    [m for app in OUR_APPS for m in apps.get_app_config(app).get_models()],
    ids=lambda model: model._meta.label,
)
def test_every_model_and_field_of_ours_is_named_in_french(model):
    opts = model._meta
    for label in (opts.verbose_name, opts.verbose_name_plural):
        assert isinstance(label, Promise), f"{model.__name__}: {label!r} is not marked"
    for field in opts.get_fields(include_parents=False):
        if field.auto_created:
            continue
        label = field.verbose_name
        # Written with gettext_lazy: the French source text, translated to English elsewhere.
        assert isinstance(label, Promise), f"{model.__name__}.{field.name} has no French name"
        assert str(label).lower() != _auto_label(field.name) or field.name in SAME_IN_FRENCH


def _registered(*app_labels):
    return [
        pytest.param(model, model_admin, id=f"{model._meta.label}")
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in app_labels
    ]


@pytest.mark.parametrize(("model", "model_admin"), _registered(*OUR_APPS, "auth"))
def test_every_admin_label_is_french(rf, model, model_admin):
    """Columns, filters, actions, fieldsets and inlines: each named in French."""
    request = rf.get("/")
    request.user = UserFactory(username="racine", is_superuser=True)
    labels = {}
    for name in model_admin.get_list_display(request):
        if name == "__str__":  # headed by the model's name
            labels["column __str__"] = model._meta.verbose_name
        elif name != "action_checkbox":
            labels[f"column {name}"] = label_for_field(name, model, model_admin)
    for item in model_admin.get_list_filter(request):
        field_name = item[0] if isinstance(item, tuple) else item
        if isinstance(field_name, str):
            labels[f"filter {field_name}"] = model._meta.get_field(
                field_name.split("__")[0]
            ).verbose_name
        else:
            labels[f"filter {field_name.__name__}"] = field_name.title
    for _action, name, description in model_admin._get_base_actions():
        labels[f"action {name}"] = description
    for title, _options in model_admin.get_fieldsets(request):
        if title:
            labels[f"fieldset {title}"] = title
    for inline in model_admin.get_inline_instances(request):
        labels[f"inline {inline.model.__name__}"] = inline.verbose_name_plural
    for where, label in labels.items():
        assert isinstance(label, Promise), f"{model.__name__} {where}: {label!r} not in French"


@pytest.fixture
def one_of_each(declaration, territory, moderator):
    """One row of every model the admin lists, to open each change page."""
    signature = SignatureFactory(declaration=declaration, territory=territory, status="confirmed")
    services.change_status(signature_id=signature.pk, action="approve", actor=moderator)
    SignatureFactory(declaration=declaration, status="confirmed")  # in the queue
    TerritoryDomain.objects.create(domain="testville.fr", territory=territory, source="moderator")
    DemandFactory(group__declaration=declaration)
    FounderFactory(declaration=declaration)
    TOTPDevice.objects.create(user=moderator, name="default")
    StaticDevice.objects.create(user=moderator, name="backup")
    source = {"username": "intrus", "ip_address": "192.0.2.1", "user_agent": "test"}
    AccessAttempt.objects.create(**source, get_data="", post_data="", failures_since_start=1)
    AccessFailureLog.objects.create(**source)
    AccessLog.objects.create(**source)


# What a page says in its headings, column heads, labels, filter titles and buttons.
VISIBLE_LABELS = re.compile(
    r"<(h1|h2|h3|th|label|summary|legend|option|button|title)\b[^>]*>(.*?)</\1>", re.S
)


def _visible_labels(html: str) -> set[str]:
    texts = set()
    for _tag, inner in VISIBLE_LABELS.findall(html):
        text = unescape(re.sub(r"<[^>]+>", " ", inner))
        text = re.sub(r"\s+", " ", text).strip(" :*↓").lower()
        if text:
            texts.add(text)
    return texts


def _english_labels(model, model_admin, request) -> set[str]:
    """The labels Django would invent for this admin's fields and columns if nobody had
    named them: none may show on its pages."""
    names = {f.name for f in model._meta.get_fields() if not f.auto_created or f.concrete}
    names |= {n for n in model_admin.get_list_display(request) if isinstance(n, str)}
    names |= {n for n in model_admin.get_readonly_fields(request) if isinstance(n, str)}
    return {_auto_label(name) for name in names - SAME_IN_FRENCH - {"id"}}


@pytest.mark.parametrize(("model", "model_admin"), _registered(*OUR_APPS, "auth", *LIBRARY_APPS))
def test_admin_pages_speak_french(client, rf, one_of_each, model, model_admin):
    superuser = UserFactory(username="racine", is_superuser=True)
    client.force_login(superuser)
    request = rf.get("/")
    request.user = superuser
    opts = model._meta
    obj = model_admin.get_queryset(request).first()
    assert obj is not None, f"no {opts.label} to open"
    pages = [
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
    ]
    if model_admin.has_add_permission(request):
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="fr"' in html
        if opts.app_label in LIBRARY_APPS:
            continue
        for django_wording in ("Sélectionnez l’objet", "Affichage de ", "Modification de "):
            assert django_wording not in html, (url, django_wording)
        english = _visible_labels(html) & _english_labels(model, model_admin, request)
        assert not english, (url, english)


def test_the_label_check_catches_an_unnamed_field():
    """The check above would see a field nobody named in French."""
    field = Signature._meta.get_field("confirmation_queued_at")
    request = type("Request", (), {"user": None})()
    labels = _english_labels(Signature, admin.site._registry[Signature], request)
    assert "confirmation queued at" in labels
    assert str(field.verbose_name).lower() not in labels
    html = "<th scope='col'>Confirmation queued at</th><label>Statut :</label>"
    assert _visible_labels(html) & labels == {"confirmation queued at"}
