import datetime
import time

import factory
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils import timezone

from declarations.models import Declaration, Demand, DemandGroup, Founder, Network
from signatures.forms import STARTED_SALT
from signatures.models import Flag, Signature
from territories.models import Territory
from territories.normalize import normalize
from territories.validators import luhn_is_valid


class NetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Network
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"reseau-{n}")
    short_name = factory.Sequence(lambda n: f"R{n}")
    name = factory.LazyAttribute(lambda o: f"Réseau {o.short_name}")


class DeclarationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Declaration

    slug = factory.Sequence(lambda n: f"declaration-{n}")
    title = factory.Sequence(lambda n: f"Déclaration numéro {n}")
    subtitle = "Pour la coopération"
    lead = "Un chapeau."
    body = "Premier paragraphe avec **du gras**.\n\nSecond paragraphe."
    date = datetime.date(2024, 1, 15)
    is_open = True
    moderation = Declaration.Moderation.PRE


class DemandGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DemandGroup

    declaration = factory.SubFactory(DeclarationFactory)
    lead_in = "Nous demandons :"


class DemandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Demand

    group = factory.SubFactory(DemandGroupFactory)
    heading = "une demande"
    text = factory.LazyAttribute(lambda o: f"**{o.heading}** et sa suite ;")


class FounderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Founder

    declaration = factory.SubFactory(DeclarationFactory)
    name = "Camille MARTIN"
    functions = "Présidente du réseau\nMaire de Quelquepart"


class TerritoryFactory(factory.django.DjangoModelFactory):
    """A territory no referential lists: "X…" codes and no SIREN never clash with real ones."""

    class Meta:
        model = Territory

    kind = Territory.Kind.OTHER
    code = factory.Sequence(lambda n: f"X{n:04d}")
    name = factory.Sequence(lambda n: f"Territoire test {n}")
    is_referential = factory.LazyAttribute(lambda o: o.kind in Territory.REFERENTIAL_KINDS)


def fake_siren(number: int) -> str:
    """A SIREN with a valid Luhn key that no real body has ("99…" prefix)."""
    stem = f"99{number:06d}"
    for key in range(10):
        if luhn_is_valid(stem + str(key)):
            return stem + str(key)
    raise AssertionError("unreachable: one key digit always satisfies Luhn")


class SignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signature

    declaration = factory.SubFactory(DeclarationFactory)
    territory = factory.SubFactory(TerritoryFactory)
    first_name = "Dominique"
    last_name = factory.Sequence(lambda n: f"Signataire{n}")
    signatory_search = factory.LazyAttribute(lambda o: normalize(f"{o.first_name} {o.last_name}"))
    function = Signature.Function.PRESIDENT
    email = factory.Sequence(lambda n: f"elu{n}@territoire-test.fr")
    consents_to_publication = True
    status = Signature.Status.PENDING
    confirmed_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status != Signature.Status.PENDING else None
    )
    published_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status == Signature.Status.PUBLISHED else None
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"personne{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@alliance.example.org")
    password = factory.django.Password("mot-de-passe-de-test")
    is_staff = True


def form_started_stamp(seconds_ago: float = 60) -> str:
    """The signing form's signed start time, as if it had been shown `seconds_ago`."""
    return signing.dumps(time.time() - seconds_ago, salt=STARTED_SALT)


def signature_form_data(**overrides) -> dict:
    """What the signing form posts for Camille Durand, président·e (of the métropole the
    `territory` fixture is), after a minute of typing; no territory unless given."""
    return {
        "started": form_started_stamp(),
        "first_name": "Camille",
        "last_name": "Durand",
        "function": "president",
        "email": "camille.durand@mairie-test.fr",
        "consents_to_publication": "on",
        "declares_authorised": "on",
        **overrides,
    }


def unlisted_territory_data(*, name: str, siren: str, departement=None, kind="petr") -> dict:
    """The form's fields for a territory the referential does not list."""
    data = {
        "not_listed": "on",
        "unlisted_kind": kind,
        "unlisted_name": name,
        "unlisted_siren": siren,
    }
    if departement is not None:
        data["unlisted_departement"] = departement.pk
    return data


def bulk_signatures(declaration, count: int, *, start: int = 0, status: str = "published"):
    """`count` signatures in a few queries, for query-count tests at thousands of rows.

    Each has its own commune (codes Y<start…>), in one département and région, with one
    network and a webmail flag, so list pages have something to join and prefetch.
    """
    region, _ = Territory.objects.get_or_create(
        kind="region", code="RBULK", defaults={"name": "Région bulk", "search_name": "bulk"}
    )
    departement, _ = Territory.objects.get_or_create(
        kind="departement",
        code="DBULK",
        defaults={"name": "Dép bulk", "search_name": "bulk", "region": region},
    )
    territories = Territory.objects.bulk_create(
        Territory(
            kind="commune",
            code=f"Y{start + i:05d}",
            name=f"Commune {start + i}",
            search_name=f"commune {start + i}",
            departement=departement,
            region=region,
            population=100,
        )
        for i in range(count)
    )
    now = timezone.now()
    signatures = Signature.objects.bulk_create(
        Signature(
            declaration=declaration,
            territory=territory,
            first_name="A",
            last_name=f"B{start + i}",
            signatory_search=f"a b{start + i}",
            function="maire",
            email=f"m{start + i}@x.fr",
            consents_to_publication=True,
            status=status,
            confirmed_at=now,
            published_at=now - datetime.timedelta(seconds=start + i)
            if status == "published"
            else None,
        )
        for i, territory in enumerate(territories)
    )
    network = Network.objects.get(slug="red")
    Signature.networks.through.objects.bulk_create(
        Signature.networks.through(signature_id=s.pk, network_id=network.pk) for s in signatures
    )
    Flag.objects.bulk_create(Flag(signature=s, code="webmail") for s in signatures)
    return signatures
