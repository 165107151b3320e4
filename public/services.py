"""The contact form's one workflow (queue the message, and the sender's acknowledgement
if caps allow), and the one figure of the statistics the counts snapshot does not hold: the
share of each département's inhabitants covered, for the map."""

import logging

from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from core.resilience import cache_or_none, write_cache_quietly
from declarations.models import Declaration
from signatures.models import OutgoingEmail, Signature, source_hash
from territories.models import Territory

from . import tasks

# The shares follow the signatures through the snapshot's version in the key; the
# timeout only bounds how long a new import of the referential goes unnoticed.
COVERAGE_CACHE_TIMEOUT = 3600

logger = logging.getLogger(__name__)


def submit_contact_message(*, name: str, email: str, subject: str, message: str) -> bool:
    """Send a contact message to CONTACT_EMAIL and an acknowledgement to its sender; True
    if the acknowledgement goes.

    Side effects: after commit, queues the message to settings.CONTACT_EMAIL
    (replying to the sender). Records one email to the sender against their
    address's caps (OutgoingEmail.claim) and, when the caps allow it, queues the
    acknowledgement after commit: whoever typed somebody else's address cannot
    use them to flood that address, nor to make the site deliver their text:
    the acknowledgement carries neither the message nor the name. The contact
    address itself is not capped (the form's rate limit protects it). The
    message is stored nowhere but in the email to CONTACT_EMAIL.
    """
    fields = {"name": name, "email": email, "subject": subject, "message": message}
    with transaction.atomic():
        # robust: with the broker down the page still answers and Django logs the lost
        # task; no row is left for a sweeper to send later.
        transaction.on_commit(lambda: tasks.send_contact_message.delay(**fields), robust=True)
        has_copy = OutgoingEmail.objects.claim(email=email, kind="contact", now=timezone.now())
        if has_copy:
            transaction.on_commit(
                lambda: tasks.send_contact_copy.delay(email=email, subject=subject), robust=True
            )
        else:
            # Never the address in logs: its hash is enough to follow a pattern.
            logger.warning("Email cap reached for recipient %s", source_hash(email)[:12])
    return has_copy


def departement_coverage(declaration: Declaration, *, version: str) -> dict[str, tuple[int, int]]:
    """(inhabitants covered, inhabitants) by département code, for the map's colours.

    Counted as the national "habitants couverts" (`signatures.stats.covered_population`),
    département by département: the municipal population of each commune that
    signed, or whose intercommunalité, département or région did, once, in the
    commune's département; a signing territory the referential links no commune to
    adds its own population to its département. Inhabitants are the communes'.
    Two queries, cached under the counts snapshot's `version`: recomputed when the
    published signatures change, read from the cache otherwise.
    """
    key = f"departement-coverage:{declaration.pk}:{version}"
    coverage = cache_or_none(lambda: cache.get(key), "the coverage by département")
    if coverage is not None:
        return coverage
    signing = Signature.objects.published().filter(declaration=declaration).values("territory_id")
    communes = Territory.objects.filter(kind=Territory.Kind.COMMUNE)
    covers = (
        Q(pk__in=signing)
        | Q(epci_id__in=signing)
        | Q(departement_id__in=signing)
        | Q(region_id__in=signing)
    )
    totals = (
        communes.filter(departement__isnull=False)
        .values_list("departement__code")
        .annotate(covered=Sum("population", filter=covers), population=Sum("population"))
        .order_by()
    )
    coverage = {code: (covered or 0, population or 0) for code, covered, population in totals}
    linked = communes.filter(
        Q(epci_id=OuterRef("pk")) | Q(departement_id=OuterRef("pk")) | Q(region_id=OuterRef("pk"))
    )
    unlinked = (
        Territory.objects.filter(pk__in=signing, departement__isnull=False)
        .exclude(kind=Territory.Kind.COMMUNE)
        .exclude(Exists(linked))
        .values_list("departement__code")
        .annotate(covered=Sum("population"))
        .order_by()
    )
    for code, covered in unlinked:
        before, population = coverage.get(code, (0, 0))
        coverage[code] = (before + (covered or 0), population)
    write_cache_quietly(
        lambda: cache.set(key, coverage, COVERAGE_CACHE_TIMEOUT), "the coverage by département"
    )
    return coverage
