import threading

import pytest
from django.db import connection

from signatures import services, stats
from signatures.models import Signature
from tests.factories import DeclarationFactory, SignatureFactory, TerritoryFactory, fake_siren


def _signatory(email="elu@territoire.fr", **overrides):
    data = {
        "first_name": "Dominique",
        "last_name": "Martin",
        "function": "maire",
        "function_other": "",
        "email": email,
        "phone": "",
        "comment": "",
        "consents_to_news": False,
    }
    data.update(overrides)
    return services.Signatory(**data)


def _sign(declaration, territory, **signatory):
    return services.sign_declaration(
        declaration=declaration,
        territory=territory,
        signatory=_signatory(**signatory),
        networks=[],
        ip=None,
    )


def _run_concurrently(count, target):
    """Run target(i) in `count` threads released together; return results or exceptions."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        try:
            barrier.wait(timeout=30)
            results[index] = target(index)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db
def test_sign_updates_the_pending_signature_of_the_same_address(
    django_capture_on_commit_callbacks,
):
    declaration, territory = DeclarationFactory(), TerritoryFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = _sign(declaration, territory)
        second = services.sign_declaration(
            declaration=declaration,
            territory=territory,
            signatory=_signatory(email="ELU@territoire.fr", comment="Corrigé"),
            networks=[],
            ip=None,
        )
    assert first.pk == second.pk
    assert Signature.objects.get().comment == "Corrigé"


@pytest.mark.django_db
def test_sign_refuses_a_territory_with_a_live_signature():
    live = SignatureFactory(status="published")
    with pytest.raises(services.TerritoryAlreadySigned) as caught:
        services.sign_declaration(
            declaration=live.declaration,
            territory=live.territory,
            signatory=_signatory(),
            networks=[],
            ip=None,
        )
    assert caught.value.live == live


@pytest.mark.django_db
def test_unlisted_territory_reuses_an_official_siren():
    official = TerritoryFactory(kind="cc", siren=fake_siren(10))
    departement = TerritoryFactory(kind="departement")
    found = services.get_or_create_unlisted_territory(
        services.UnlistedTerritory(
            kind="petr", name="Faux nom", siren=official.siren, departement=departement
        )
    )
    assert found == official


@pytest.mark.django_db
def test_confirm_refuses_a_signature_that_is_not_pending():
    signature = SignatureFactory(status="rejected")
    with pytest.raises(services.InvalidTransition):
        services.confirm_signature(signature_id=signature.pk)


@pytest.mark.django_db
def test_update_signature_count_recounts_published_only():
    declaration = DeclarationFactory(signature_count=99)
    SignatureFactory.create_batch(3, declaration=declaration, status="published")
    SignatureFactory(declaration=declaration, status="confirmed")
    SignatureFactory(declaration=declaration, status="pending")
    stats.refresh_stats(declaration_id=declaration.pk)
    stats.refresh_stats(declaration_id=declaration.pk)
    declaration.refresh_from_db()
    assert declaration.signature_count == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_confirmations_leave_one_confirmed_signature():
    declaration, territory = DeclarationFactory(), TerritoryFactory()
    pending = [
        SignatureFactory(declaration=declaration, territory=territory, email=f"elu{i}@t.fr")
        for i in range(20)
    ]
    results = _run_concurrently(
        20, lambda i: services.confirm_signature(signature_id=pending[i].pk)
    )
    winners = [r for r in results if isinstance(r, Signature)]
    losers = [r for r in results if isinstance(r, services.TerritoryAlreadySigned)]
    assert len(winners) == 1, results
    assert len(losers) == 19, results
    assert Signature.objects.live().filter(territory=territory).count() == 1
    assert Signature.objects.pending().filter(territory=territory).count() == 19


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_submissions_create_one_signature():
    declaration, territory = DeclarationFactory(), TerritoryFactory()
    results = _run_concurrently(
        10,
        lambda i: _sign(declaration, territory),
    )
    assert all(isinstance(r, Signature) for r in results), results
    assert Signature.objects.count() == 1
    assert len({r.pk for r in results}) == 1
