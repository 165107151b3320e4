"""Retention (signatures/retention.py): each rule on data aged past its period, and only there."""

import datetime
import io
import logging
import os
import time

import pytest
from django.core.management import call_command
from django.utils import timezone
from freezegun import freeze_time

from declarations.models import Declaration, Network
from signatures import retention, services
from signatures.models import (
    Contest,
    Correction,
    Flag,
    ModerationEvent,
    OutgoingEmail,
    Signature,
    source_hash,
)
from tests.factories import DeclarationFactory, SignatureFactory

pytestmark = pytest.mark.django_db

Action = ModerationEvent.Action
Status = Signature.Status


def _days_ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def _contester(message: str = "Ce n'est pas notre maire.") -> services.Contester:
    return services.Contester(
        first_name="Claude",
        last_name="Durand",
        function="Maire de Testville",
        email="claude.durand@mairie-test.fr",
        message=message,
    )


def _correction(signature: Signature, **fields) -> Correction:
    return Correction.objects.create(
        signature=signature,
        first_name="Dominique",
        last_name="Corrigé",
        function=Signature.Function.MAIRE,
        **fields,
    )


def _is_erased(signature: Signature) -> bool:
    signature.refresh_from_db()
    personal = (
        signature.first_name,
        signature.last_name,
        signature.email,
        signature.phone,
        signature.comment,
        signature.user_agent,
        signature.confirmation_error,
    )
    return signature.anonymised_at is not None and personal == ("",) * 7


def test_unconfirmed_signatures_are_deleted_with_what_points_at_them(declaration, moderator):
    yesterday = _days_ago(1)
    with freeze_time(_days_ago(31)):
        pending = SignatureFactory(declaration=declaration, status="pending")
        suspect = SignatureFactory(declaration=declaration, status="suspect")
        released = SignatureFactory(declaration=declaration, status="pending")
        # Asked for a new link a day ago: the link still works, the data is fresh.
        asked_again = SignatureFactory(
            declaration=declaration, status="pending", confirmation_queued_at=yesterday
        )
        published = SignatureFactory(declaration=declaration, status="published")
        confirmed = SignatureFactory(declaration=declaration, status="confirmed")
    recent = SignatureFactory(
        declaration=declaration, status="pending", submitted_at=_days_ago(29)
    )
    pending.networks.add(Network.objects.get(slug="anpp"))
    suspect.flags.create(code=Flag.Code.SUSPECT, detail="honeypot")
    released.events.create(
        action=Action.RELEASE, actor=moderator, from_status="suspect", to_status="pending"
    )
    # No workflow puts these on an unconfirmed signature; they prove the CASCADE.
    _correction(pending)
    Contest.objects.create(signature=suspect, first_name="C", last_name="D", email="c@d.fr")

    assert retention.delete_unconfirmed_signatures(timezone.now()) == 3

    kept = {asked_again.pk, published.pk, confirmed.pk, recent.pk}
    assert set(Signature.objects.values_list("pk", flat=True)) == kept
    gone = [pending.pk, suspect.pk, released.pk]
    assert not Flag.objects.filter(signature_id__in=gone).exists()
    assert not ModerationEvent.objects.filter(signature_id__in=gone).exists()
    assert not Signature.networks.through.objects.filter(signature_id__in=gone).exists()
    assert not Contest.objects.exists()
    assert not Correction.objects.exists()


def test_periods_are_read_from_the_settings_at_each_run(declaration, settings):
    SignatureFactory(declaration=declaration, status="pending", submitted_at=_days_ago(10))
    assert retention.delete_unconfirmed_signatures(timezone.now()) == 0
    settings.RETENTION_UNCONFIRMED_DAYS = 7
    assert retention.delete_unconfirmed_signatures(timezone.now()) == 1


def test_sources_are_erased_after_the_period_and_the_ip_hash_stays(declaration):
    old = SignatureFactory(
        declaration=declaration,
        status="published",
        submitted_at=_days_ago(31),
        submitted_ip="203.0.113.5",
        user_agent="Mozilla/5.0 Firefox/128.0",
    )
    recent = SignatureFactory(
        declaration=declaration,
        status="published",
        submitted_at=_days_ago(29),
        submitted_ip="203.0.113.6",
        user_agent="Mozilla/5.0 Firefox/128.0",
    )
    old.flags.create(code=Flag.Code.IP_BURST, detail="3 territoires en 1 h depuis 203.0.113.5")
    recent.flags.create(code=Flag.Code.IP_BURST, detail="3 territoires en 1 h depuis 203.0.113.6")

    done = retention.apply_retention()

    assert (done["erase_sources"], done["redact_ip_flags"]) == (1, 1)
    old.refresh_from_db()
    assert (old.submitted_ip, old.user_agent) == (None, "")
    assert old.ip_hash == source_hash("203.0.113.5")
    assert old.flags.get().detail == f"3 territoires en 1 h depuis {old.ip_hash[:12]}"
    assert (old.status, old.anonymised_at, old.first_name) == (Status.PUBLISHED, None, "Dominique")
    recent.refresh_from_db()
    assert (recent.submitted_ip, recent.user_agent) == ("203.0.113.6", "Mozilla/5.0 Firefox/128.0")
    assert recent.flags.get().detail == "3 territoires en 1 h depuis 203.0.113.6"


@pytest.mark.parametrize(
    ("ip", "detail"),
    [
        ("2001:db8::7", "3 territories in 1 h from 2001:db8::7"),
        ("198.51.100.20", "3 territoires en 1 h depuis 198.51.100.20."),
    ],
)
def test_an_ip_burst_flag_loses_its_address_whatever_its_wording(declaration, ip, detail):
    signature = SignatureFactory(
        declaration=declaration, submitted_at=_days_ago(31), submitted_ip=ip
    )
    signature.flags.create(code=Flag.Code.IP_BURST, detail=detail)
    assert retention.redact_ip_flags(timezone.now()) == 1
    redacted = signature.flags.get().detail
    assert ip not in redacted
    assert source_hash(ip)[:12] in redacted


def test_withdrawn_and_rejected_signatures_are_erased_after_the_period(declaration, moderator):
    with freeze_time(_days_ago(31)):
        withdrawn = SignatureFactory(
            declaration=declaration,
            status="published",
            phone="0561000000",
            comment="Bravo",
            user_agent="Mozilla/5.0",
        )
        _correction(withdrawn)  # left open when the signature was withdrawn
        services.change_status(signature_id=withdrawn.pk, action=Action.WITHDRAW)
        rejected = SignatureFactory(
            declaration=declaration,
            status="confirmed",
            confirmation_error="SMTPRecipientsRefused({'elu@x.fr': (550, b'unknown')})",
        )
        services.change_status(
            signature_id=rejected.pk, action=Action.REJECT, actor=moderator, note="Doublon"
        )
    withdrawn.events.update(notification_error="SMTPRecipientsRefused({'elu@x.fr': …})")
    with freeze_time(_days_ago(29)):
        recently_rejected = SignatureFactory(declaration=declaration, status="confirmed")
        services.change_status(signature_id=recently_rejected.pk, action=Action.REJECT)
    published = SignatureFactory(
        declaration=declaration, status="published", submitted_at=_days_ago(90)
    )

    assert retention.erase_ended_signatures(timezone.now()) == 2

    assert _is_erased(withdrawn)
    assert _is_erased(rejected)
    assert (withdrawn.status, withdrawn.territory_id) == (Status.WITHDRAWN, withdrawn.territory.pk)
    assert withdrawn.withdrawn_at < _days_ago(30)
    assert not withdrawn.corrections.exists()
    assert [e.action for e in withdrawn.events.order_by("pk")] == [Action.WITHDRAW, Action.ERASE]
    assert not withdrawn.events.exclude(notification_error="").exists()
    erase = rejected.events.get(action=Action.ERASE)
    assert (erase.actor, erase.from_status, erase.to_status) == (None, "rejected", "rejected")
    # What was decided, by whom and why, stays until the declaration has long been closed.
    reject = rejected.events.get(action=Action.REJECT)
    assert (reject.actor, reject.note) == (moderator, "Doublon")
    assert not _is_erased(recently_rejected)
    assert not _is_erased(published)
    assert not published.events.exists()


def test_an_already_anonymised_signature_is_left_as_it_is(declaration, moderator):
    signature = SignatureFactory(declaration=declaration, status="published")
    services.change_status(signature_id=signature.pk, action=Action.WITHDRAW)
    services.anonymise_signature(signature_id=signature.pk, actor=moderator)
    Signature.objects.filter(pk=signature.pk).update(withdrawn_at=_days_ago(40))
    assert retention.erase_ended_signatures(timezone.now()) == 0
    assert not signature.events.filter(action=Action.ERASE).exists()


def test_contesters_are_erased_after_the_period_following_the_decision(declaration):
    signature = SignatureFactory(declaration=declaration, status="published")
    with freeze_time(_days_ago(40)):
        old = services.contest_signature(
            signature_id=signature.pk,
            contester=_contester(),
            source=services.Source(ip="198.51.100.1"),
        )
    with freeze_time(_days_ago(31)):
        services.decide_contests(signature_id=signature.pk, outcome=Contest.Outcome.DISMISSED)
    with freeze_time(_days_ago(10)):
        still_open = services.contest_signature(
            signature_id=signature.pk,
            contester=_contester("Je maintiens."),
            source=services.Source(),
        )

    assert retention.erase_decided_contests(timezone.now()) == 1

    old.refresh_from_db()
    assert [getattr(old, name) for name in retention.CONTESTER_FIELDS] == [""] * 5
    assert (old.outcome, old.ip_hash) == (Contest.Outcome.DISMISSED, source_hash("198.51.100.1"))
    still_open.refresh_from_db()
    assert (still_open.email, still_open.message) == (
        "claude.durand@mairie-test.fr",
        "Je maintiens.",
    )
    notes = signature.events.filter(action=Action.CONTEST).order_by("created_at")
    assert [e.note for e in notes] == ["", "Je maintiens."]
    assert signature.events.filter(action=Action.CONTEST_DECIDED).exists()


def test_decided_corrections_are_deleted_after_the_period(declaration):
    signature = SignatureFactory(declaration=declaration, status="published")
    old = _correction(signature, outcome="approved", decided_at=_days_ago(31))
    recent = _correction(signature, outcome="rejected", decided_at=_days_ago(29))
    still_open = _correction(signature, submitted_at=_days_ago(90))
    assert retention.delete_decided_corrections(timezone.now()) == 1
    assert set(Correction.objects.values_list("pk", flat=True)) == {recent.pk, still_open.pk}
    assert not Correction.objects.filter(pk=old.pk).exists()


def test_a_long_closed_declaration_keeps_its_counts_and_nothing_personal(
    declaration, territories, moderator, refresh_counts, django_capture_on_commit_callbacks
):
    closed = DeclarationFactory(closes_at=_days_ago(366))
    with freeze_time(_days_ago(400)):
        signature = SignatureFactory(
            declaration=closed,
            territory=territories["brest"],
            status="confirmed",
            phone="0298000000",
            comment="Pour Brest",
        )
        services.change_status(
            signature_id=signature.pk, action=Action.APPROVE, actor=moderator, note="Appelé"
        )
        contest = services.contest_signature(
            signature_id=signature.pk, contester=_contester(), source=services.Source()
        )
    signature.networks.add(Network.objects.get(slug="anpp"))
    _correction(signature)
    other = SignatureFactory(
        declaration=declaration, status="confirmed", submitted_at=_days_ago(20)
    )
    services.change_status(
        signature_id=other.pk, action=Action.APPROVE, actor=moderator, note="Vérifié"
    )
    before = refresh_counts(closed)

    with django_capture_on_commit_callbacks(execute=True):
        done = retention.apply_retention()

    assert done["erase_closed_signatures"] == 1
    assert done["delete_closed_contests"] == 1
    assert _is_erased(signature)
    assert signature.full_name == "Signataire anonymisé·e"
    assert (signature.status, signature.territory) == (Status.PUBLISHED, territories["brest"])
    assert signature.published_at < _days_ago(399)
    assert list(signature.networks.values_list("slug", flat=True)) == ["anpp"]
    assert not Contest.objects.filter(pk=contest.pk).exists()
    assert not signature.corrections.exists()
    approve = signature.events.get(action=Action.APPROVE)
    assert (approve.actor, approve.note, approve.created_at < _days_ago(399)) == (None, "", True)
    assert signature.events.filter(action=Action.ERASE).exists()
    after = refresh_counts(closed)
    assert (after.total, after.population) == (before.total, before.population) == (1, 1_500)
    # The open declaration's signatures and audit trail are untouched.
    assert not _is_erased(other)
    assert other.events.get(action=Action.APPROVE).note == "Vérifié"
    assert other.events.get(action=Action.APPROVE).actor == moderator


def test_a_declaration_closed_by_its_switch_counts_from_its_last_edit(db):
    long_closed, lately_closed, still_open = (
        DeclarationFactory(is_open=False),
        DeclarationFactory(is_open=False),
        DeclarationFactory(closes_at=timezone.now() + datetime.timedelta(days=10)),
    )
    Declaration.objects.filter(pk=long_closed.pk).update(updated_at=_days_ago(366))
    Declaration.objects.filter(pk=lately_closed.pk).update(updated_at=_days_ago(300))
    Declaration.objects.filter(pk=still_open.pk).update(updated_at=_days_ago(800))
    signatures = {
        d.pk: SignatureFactory(declaration=d, status="published")
        for d in (long_closed, lately_closed, still_open)
    }
    assert retention.erase_closed_signatures(timezone.now()) == 1
    assert _is_erased(signatures[long_closed.pk])
    assert not _is_erased(signatures[lately_closed.pk])
    assert not _is_erased(signatures[still_open.pk])


def test_outgoing_email_records_are_deleted_after_two_days(db):
    old = OutgoingEmail.objects.create(
        recipient_hash="a" * 32, kind="confirmation", queued_at=_days_ago(2.1)
    )
    recent = OutgoingEmail.objects.create(
        recipient_hash="a" * 32, kind="confirmation", queued_at=_days_ago(1.9)
    )
    assert retention.delete_outgoing_emails(timezone.now()) == 1
    assert list(OutgoingEmail.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not OutgoingEmail.objects.filter(pk=old.pk).exists()


def test_a_second_run_changes_nothing(
    declaration, moderator, django_capture_on_commit_callbacks, settings, tmp_path
):
    """Aged data for every rule: the first run changes something for each, the second nothing."""
    settings.PRIVATE_ROOT = tmp_path
    orphan = tmp_path / "deliberations" / "orphelin.pdf"  # its row was deleted in bulk
    orphan.parent.mkdir()
    orphan.write_bytes(b"%PDF-1.4 ... %%EOF")
    long_ago = time.time() - 2 * 86400
    os.utime(orphan, (long_ago, long_ago))
    closed = DeclarationFactory(closes_at=_days_ago(366))
    with freeze_time(_days_ago(400)):
        on_closed = SignatureFactory(declaration=closed, status="confirmed")
        services.change_status(
            signature_id=on_closed.pk, action=Action.APPROVE, actor=moderator, note="Appelé"
        )
        services.contest_signature(
            signature_id=on_closed.pk, contester=_contester(), source=services.Source()
        )
    _correction(on_closed)
    with freeze_time(_days_ago(40)):
        SignatureFactory(declaration=declaration, status="pending")
        published = SignatureFactory(
            declaration=declaration, status="published", submitted_ip="203.0.113.5"
        )
        published.flags.create(code=Flag.Code.IP_BURST, detail="3 territoires depuis 203.0.113.5")
        services.contest_signature(
            signature_id=published.pk, contester=_contester(), source=services.Source()
        )
        services.decide_contests(signature_id=published.pk, outcome=Contest.Outcome.DISMISSED)
        _correction(published, outcome="rejected", decided_at=timezone.now())
        withdrawn = SignatureFactory(declaration=declaration, status="confirmed")
        services.change_status(signature_id=withdrawn.pk, action=Action.WITHDRAW)
        OutgoingEmail.objects.create(recipient_hash="a" * 32, kind="confirmation")

    with django_capture_on_commit_callbacks(execute=True):
        first = retention.apply_retention()
    events = ModerationEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        second = retention.apply_retention()

    assert [rule for rule, count in first.items() if not count] == []
    assert set(second.values()) == {0}
    assert ModerationEvent.objects.count() == events


def test_the_beat_task_applies_retention_and_logs_counts_only(declaration, caplog):
    SignatureFactory(
        declaration=declaration,
        status="pending",
        submitted_at=_days_ago(31),
        email="secret@mairie-test.fr",
        submitted_ip="203.0.113.7",
    )
    with caplog.at_level(logging.INFO, logger="signatures.retention"):
        result = retention.apply_retention_task.delay()
    assert result.get()["delete_unconfirmed_signatures"] == 1
    assert not Signature.objects.exists()
    assert "delete_unconfirmed_signatures=1" in caplog.text
    assert "secret" not in caplog.text
    assert "203.0.113.7" not in caplog.text


def test_the_command_prints_what_it_did(declaration):
    SignatureFactory(declaration=declaration, status="suspect", submitted_at=_days_ago(31))
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    lines = [line.split() for line in out.getvalue().splitlines()]
    assert ["delete_unconfirmed_signatures", "1"] in lines
    assert ["erase_sources", "0"] in lines
    assert lines[-1] == ["Total", ":", "1"]
