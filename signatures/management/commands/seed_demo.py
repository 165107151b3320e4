"""Load demonstration signatures: published, on real territories, spread over two months."""

import datetime
import random

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from declarations.models import Declaration, Network
from signatures.models import Signature
from signatures.stats import refresh_stats
from territories.models import Territory
from territories.normalize import normalize

DEMO_DOMAIN = "demo.invalid"  # reserved TLD: nobody can receive these, --clear finds them
FIRST_NAMES = [
    "Camille", "Dominique", "Claude", "Marie", "Jean", "Nathalie", "Pierre", "Sophie",
    "Michel", "Isabelle", "Philippe", "Catherine", "Alain", "Sylvie", "Patrick", "Valérie",
]  # fmt: skip
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Bertrand",
]  # fmt: skip
FUNCTIONS = {
    Territory.Kind.COMMUNE: Signature.Function.MAIRE,
}
COMMENTS = ["", "", "", "Pour une relance qui parte des territoires.", "Engagés !"]


class Command(BaseCommand):
    help = (
        "Crée des signatures publiées de démonstration sur des territoires réels "
        "(adresses @demo.invalid). --clear les supprime."
    )

    def add_arguments(self, parser):
        parser.add_argument("--signatures", type=int, default=5000)
        parser.add_argument("--declaration", help="slug (défaut : la déclaration en une)")
        parser.add_argument("--seed", type=int, default=2020, help="pour rejouer le même tirage")
        parser.add_argument("--clear", action="store_true", help="supprime les signatures de démo")

    def handle(self, *args, signatures, declaration, seed, clear, **options):
        declaration = self._declaration(declaration)
        if clear:
            deleted, _by_model = Signature.objects.filter(
                declaration=declaration, email__endswith=f"@{DEMO_DOMAIN}"
            ).delete()
            refresh_stats(declaration_id=declaration.pk)
            self.stdout.write(f"{deleted} lignes supprimées.")
            return
        territories = self._free_territories(declaration, signatures, random.Random(seed))
        with transaction.atomic():
            created = self._create(declaration, territories, random.Random(seed))
        stats = refresh_stats(declaration_id=declaration.pk)
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(created)} signatures de démonstration publiées ; "
                f"{stats.total} au total, {stats.population} habitants couverts."
            )
        )

    def _declaration(self, slug):
        declarations = Declaration.objects.all()
        found = declarations.filter(slug=slug).first() if slug else declarations.current()
        if found is None:
            raise CommandError("Déclaration introuvable.")
        return found

    def _free_territories(self, declaration, count, rng) -> list[Territory]:
        """Mostly communes, some intercommunalités, a few départements: like a real campaign."""
        signed = Signature.objects.live().filter(declaration=declaration).values("territory_id")
        free = Territory.objects.filter(is_active=True, is_referential=True).exclude(pk__in=signed)
        if not free.filter(kind=Territory.Kind.COMMUNE).exists():
            raise CommandError("Référentiel vide : lancez d'abord `manage.py import_territories`.")
        plan = [
            (Territory.EPCI_KINDS, count // 10),
            ({Territory.Kind.DEPARTEMENT, Territory.Kind.REGION}, count // 100),
        ]
        chosen = []
        for kinds, wanted in plan:
            ids = list(free.filter(kind__in=kinds).values_list("pk", flat=True))
            chosen += rng.sample(ids, min(wanted, len(ids)))
        communes = list(free.filter(kind=Territory.Kind.COMMUNE).values_list("pk", flat=True))
        missing = count - len(chosen)
        if missing > len(communes):
            raise CommandError(f"Seulement {len(communes) + len(chosen)} territoires libres.")
        chosen += rng.sample(communes, missing)
        return list(Territory.objects.filter(pk__in=chosen))

    def _create(self, declaration, territories, rng) -> list[Signature]:
        now = timezone.now()
        networks = list(Network.objects.all())
        rows = []
        for index, territory in enumerate(territories):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            published = now - datetime.timedelta(seconds=rng.randint(60, 60 * 86400))
            rows.append(
                Signature(
                    declaration=declaration,
                    territory=territory,
                    first_name=first,
                    last_name=last,
                    signatory_search=normalize(f"{first} {last}"),
                    function=FUNCTIONS.get(territory.kind, Signature.Function.PRESIDENT),
                    email=f"signataire-{index}@{DEMO_DOMAIN}",
                    comment=rng.choice(COMMENTS),
                    consents_to_publication=True,
                    status=Signature.Status.PUBLISHED,
                    submitted_at=published - datetime.timedelta(hours=2),
                    confirmed_at=published - datetime.timedelta(hours=1),
                    published_at=published,
                    # No flags for demonstration rows (they share one domain): nothing due.
                    proof_refreshed_at=published,
                )
            )
        created = Signature.objects.bulk_create(rows, batch_size=1000)
        links = [
            Signature.networks.through(signature_id=signature.pk, network_id=network.pk)
            for signature in created
            for network in networks
            if rng.random() < 0.3
        ]
        Signature.networks.through.objects.bulk_create(links, batch_size=2000)
        return created
