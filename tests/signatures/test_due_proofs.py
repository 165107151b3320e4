"""signatures.tasks.refresh_due_proofs: new signatures' flags, computed in runs after signing."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from alliance.celery import app
from signatures import tasks
from signatures.models import Flag, Signature
from signatures.proof import levels
from tests.factories import SignatureFactory, TerritoryFactory, signature_form_data

pytestmark = pytest.mark.django_db


def test_one_run_computes_every_due_signature_once(django_assert_max_num_queries):
    webmail = SignatureFactory(email="maire@gmail.com")
    fast = SignatureFactory(fill_seconds=2)
    SignatureFactory.create_batch(8, email="maire@commune.fr")
    assert Signature.objects.proof_due().count() == 10
    # Each read once for all ten, whatever their number; one INSERT of flags.
    with django_assert_max_num_queries(9):
        assert tasks.refresh_due_proofs() == 10
    assert webmail.flags.filter(code=Flag.Code.WEBMAIL).exists()
    assert fast.flags.filter(code=Flag.Code.TOO_FAST).exists()
    assert not Signature.objects.proof_due().exists()
    assert tasks.refresh_due_proofs() == 0


def test_signing_leaves_the_flags_to_the_run_queued_after_commit(
    client, declaration, territory, django_capture_on_commit_callbacks
):
    data = signature_form_data(territory=territory.pk, email="maire@gmail.com")
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("signatures:sign", args=[declaration.slug]), data)
    signature = Signature.objects.get()
    assert signature.proof_refreshed_at is None
    assert not signature.flags.exists()
    for callback in callbacks:
        callback()  # the email, and the run (eager here)
    signature.refresh_from_db()
    assert signature.proof_refreshed_at is not None
    assert signature.flags.filter(code=Flag.Code.WEBMAIL).exists()


def test_a_resubmitted_form_is_due_again(client, declaration, territory):
    url = reverse("signatures:sign", args=[declaration.slug])
    client.post(url, signature_form_data(territory=territory.pk, email="maire@ville.fr"))
    tasks.refresh_due_proofs()
    assert not Signature.objects.proof_due().exists()
    client.post(
        url, signature_form_data(territory=territory.pk, email="maire@ville.fr", comment="Hé")
    )
    assert Signature.objects.proof_due().count() == 1


@pytest.mark.redis
def test_a_burst_of_signatures_queues_one_run():
    app.conf.CELERY_TASK_ALWAYS_EAGER = False  # through the broker; conftest restores it
    app.control.purge()
    with app.connection_for_write() as broker:
        client = broker.default_channel.client
        for _ in range(3):
            tasks.queue_due_proofs()
        assert client.llen("deferred") == 1
        # Due a few seconds later, for the signatures made meanwhile too.
        message = json.loads(client.lindex("deferred", 0))
        eta = datetime.datetime.fromisoformat(message["headers"]["eta"])
        assert 0 < (eta - timezone.now()).total_seconds() <= tasks.PROOFS_DELAY_SECONDS
        tasks.refresh_due_proofs()  # the run starts: the next signature queues another
        tasks.queue_due_proofs()
        assert client.llen("deferred") == 2
    app.control.purge()


def test_a_flood_is_split_into_runs(monkeypatch):
    monkeypatch.setattr(tasks, "PROOFS_PER_RUN", 2)
    SignatureFactory.create_batch(3)
    assert tasks.refresh_due_proofs() == 2  # and queued the next run, eager here
    assert not Signature.objects.proof_due().exists()


def test_a_signature_that_fails_does_not_hold_the_others(monkeypatch, caplog):
    broken = SignatureFactory(territory=TerritoryFactory(name="Cassée"))
    fine = SignatureFactory(email="maire@gmail.com")
    refresh = levels.refresh_proofs

    def refresh_or_fail(signatures):
        if broken in signatures:
            raise ValueError("broken")
        refresh(signatures)

    monkeypatch.setattr(levels, "refresh_proofs", refresh_or_fail)  # the run, then one by one
    assert tasks.refresh_due_proofs() == 2
    assert fine.flags.filter(code=Flag.Code.WEBMAIL).exists()
    assert not Signature.objects.proof_due().exists()
    assert f"Flags of signature {broken.pk} not computed" in caplog.text
