"""What the harness reads and writes in the site's database, in-process (django.setup() done).

Also the SQL queries each path costs, counted with Django's test client on the
same database and Redis as the servers: one request after a warm-up.
"""

import html
import random
import re
import time

from django.db import connection
from django.db.models import Exists, OuterRef
from django.test import Client

from declarations.models import Declaration
from signatures.models import Signature
from territories.models import Territory

from .signers import CSRF, DOMAIN, STARTED, new_number

POLLER = re.compile(r'id="signature-poller" hx-get="([^"]+)"')
SECURE = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "10.9.0.2"}


def current_declaration() -> Declaration:
    declaration = Declaration.objects.current()
    if declaration is None or not declaration.is_signable():
        raise SystemExit("No open declaration in the database: the data migrations changed?")
    return declaration


def backend_pids() -> list[int]:
    """The PostgreSQL server processes serving this database (ours, not others' tests)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def published_count(declaration: Declaration) -> int:
    return Signature.objects.published().filter(declaration=declaration).count()


def free_territories(declaration: Declaration, seed: int) -> list[tuple[int, str]]:
    """Active referential territories that no signature of any status names, shuffled."""
    signed = Signature.objects.filter(declaration=declaration, territory=OuterRef("pk"))
    free = list(
        Territory.objects.filter(is_active=True, is_referential=True)
        .exclude(Exists(signed))
        .values_list("pk", "kind")
    )
    random.Random(seed).shuffle(free)
    return free


def bench_signatures(declaration: Declaration):
    return Signature.objects.filter(declaration=declaration, email__endswith=f".{DOMAIN}")


def clear_bench_signatures(declaration: Declaration) -> int:
    """Delete what the signers made, so that every size starts with the same free pool."""
    deleted, _by_model = bench_signatures(declaration).delete()
    connection.close()
    return deleted


def poll_url_in(page: str) -> str:
    """The list's poll address, as its first page embeds it."""
    return html.unescape(POLLER.search(page).group(1))


def count_queries(declaration: Declaration, paths: list[tuple[str, str, dict]], free) -> dict:
    """{label: queries} for each (label, path, HTTP headers) GET, the CSV and a sign POST."""
    client = Client(HTTP_HOST="127.0.0.1")
    counts = {}
    for label, path, http_headers in paths:
        headers = SECURE | {
            "HTTP_" + name.upper().replace("-", "_"): value for name, value in http_headers.items()
        }
        client.get(path, **headers)  # warm-up
        counts[label], _status = _count(lambda p=path, h=headers: _consume(client.get(p, **h)))
    slug = declaration.slug
    counts["CSV full"], _status = _count(
        lambda: _consume(client.get(f"/declarations/{slug}/signataires.csv", **SECURE))
    )
    for territory_id, kind in free[:2]:  # the first one warms up
        number = new_number()
        data = _signature_form(slug, number, territory_id, kind)
        path = f"/declarations/{slug}/signer/"
        headers = SECURE | {"HTTP_X_FORWARDED_FOR": f"10.7.{number // 250}.{number % 250}"}
        visitor = Client(HTTP_HOST="127.0.0.1")  # a new visitor: a new session
        counts["sign POST"], status = _count(
            lambda v=visitor, p=path, d=data, h=headers: v.post(p, d, **h).status_code
        )
        if status != 302:
            raise SystemExit(f"The in-process sign POST answered {status}.")
    connection.close()
    return counts


def _consume(response) -> int:
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code


def _count(function) -> tuple[int, object]:
    """How many SQL queries function() ran, and what it returned."""
    queries = []

    def record(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        result = function()
    return len(queries), result


def _signature_form(slug: str, number: int, territory_id: int, kind: str) -> dict:
    """A filled form, loaded like a visitor's, ready to post once the robot threshold passed."""
    page = Client(HTTP_HOST="127.0.0.1").get(f"/declarations/{slug}/signer/", **SECURE)
    text = page.content.decode()
    time.sleep(0.6)  # a form posted back faster is a robot's, kept aside without email
    return {
        "csrfmiddlewaretoken": CSRF.search(text).group(1),
        "started": html.unescape(STARTED.search(text).group(1)),
        "territory": territory_id,
        "first_name": "Camille",
        "last_name": f"Compte {number}",
        "function": "maire" if kind == "commune" else "president",
        "email": f"maire@compte-{number}.{DOMAIN}",
        "consents_to_publication": "on",
        "declares_authorised": "on",
    }
