"""A database made by the code before the apps were reorganised migrates forward with its rows.

Commit 58d842f is the last one before `WorkerHeartbeat` moved from the `alliance` app to
`core` (core/migrations/0001_initial.py takes its table over), moderation and ProConnect
moved to apps of their own, and signatures/models.py became a package. The test builds
that commit from git, migrates a new database with it and fills it through its own code
(demonstration signatures, a decision, a contest, a correction, an anonymisation, a
pending signature, a worker's heartbeat), then migrates the same database with this
checkout's code and checks that nothing was lost: every table keeps its rows, the schema
is the one a new database gets, no model change lacks a migration, and the rows read the
same through the new ORM. Each version runs in a subprocess, as `manage.py` runs in a
deployment.

PostgreSQL only, with no SQLite variant: PostgreSQL is the production database, the one
whose rows an upgrade must keep. Needs the repository's history (a full clone, as in CI)
and the territories' npm data (`npm ci`). About 20 seconds, most of it the two versions
starting and the referential's import.
"""

import io
import json
import os
import secrets
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from tests.processes import TEST_ONLY

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[1]
OLD_MAIN = "58d842f"  # the commit before the reorganisation
TERRITORY_DATA = ROOT / "node_modules/@etalab/decoupage-administratif/data"

# Run by the old code: rows its workflows make, one or more in every table that matters.
FILL_WITH_OLD_CODE = """
from django.contrib.auth.models import Group, User

from alliance.models import WorkerHeartbeat
from declarations.models import Declaration, Network
from signatures import services
from signatures.models import Signature
from territories.models import Territory

Action = services.Action
moderator = User.objects.create_user("moderatrice", "moderatrice@example.org", is_staff=True)
moderator.groups.add(Group.objects.get(name="Modérateurs"))
rejected, contested, corrected, anonymised = Signature.objects.order_by("pk")[:4]
services.change_status(
    signature_id=rejected.pk, action=Action.REJECT, actor=moderator, note="Doublon"
)
services.contest_signature(
    signature_id=contested.pk,
    contester=services.Contester(
        first_name="Claude", last_name="Durand", function="Maire",
        email="claude.durand@example.org", message="Ce n'est pas notre maire.",
    ),
    source=services.Source(ip="198.51.100.1"),
)
services.correct_signature(
    signature_id=corrected.pk,
    fields={"first_name": "Dominique", "last_name": "Corrigé", "function": corrected.function,
            "function_other": "", "comment": ""},
)
services.anonymise_signature(signature_id=anonymised.pk, actor=moderator)
signed = Signature.objects.values("territory_id")
services.sign_declaration(
    declaration=Declaration.objects.current(),
    territory=Territory.objects.filter(kind=Territory.Kind.COMMUNE).exclude(pk__in=signed)[0],
    signatory=services.Signatory(
        first_name="Camille", last_name="Martin", function=Signature.Function.MAIRE,
        function_other="", email="camille.martin@example.org", phone="0561000000",
        comment="", consents_to_news=False,
    ),
    networks=list(Network.objects.all()[:1]),
    source=services.Source(ip="203.0.113.5", user_agent="Mozilla/5.0"),
)
WorkerHeartbeat.objects.create(hostname="celery@worker-1")
"""

# Run by both versions, the heartbeat's app label put in: what the ORM reads, as JSON.
READ_THROUGH_THE_ORM = """
import json

from django.apps import apps
from signatures.models import Signature, SignatureStats

heartbeat = apps.get_model("{label}", "WorkerHeartbeat").objects.get()
print(json.dumps({{
    "heartbeat": [heartbeat.hostname, heartbeat.seen_at.isoformat()],
    "signatures": [
        [
            s.public_id, s.status, s.full_name, s.email, s.territory.code,
            sorted(s.networks.values_list("slug", flat=True)),
            sorted(s.flags.values_list("code", flat=True)),
            list(s.events.order_by("pk").values_list("action", "actor__username")),
            list(s.contests.values_list("email", "message")),
            list(s.corrections.values_list("first_name", "last_name")),
        ]
        for s in Signature.objects.select_related("territory").order_by("pk")
    ],
    "counts": list(SignatureStats.objects.values_list("total", "population")),
}}))
"""

# Tables the old code must have filled, or the test proves nothing about them.
FILLED = (
    "alliance_workerheartbeat",
    "auth_user",
    "signatures_contest",
    "signatures_correction",
    "signatures_flag",
    "signatures_moderationevent",
    "signatures_outgoingemail",
    "signatures_signature",
    "signatures_signature_networks",
    "signatures_signaturestats",
    "territories_territory",
)
# Django's own records of the code, which gain the new `core` app: its migration, its
# model's content type and permissions.
BOOKKEEPING = {"django_migrations", "django_content_type", "auth_permission"}
SCHEMA_QUERIES = (
    "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable,"
    " column_default FROM information_schema.columns WHERE table_schema = 'public'",
    "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE connamespace = 'public'::regnamespace",
)


@pytest.fixture
def old_checkout(tmp_path) -> Path:
    """The files of OLD_MAIN, from the repository's history."""
    archive = subprocess.run(  # noqa: S603 - git, on this repository
        ["git", "-C", str(ROOT), "archive", "--format=tar", OLD_MAIN],  # noqa: S607
        capture_output=True,
        check=False,
    )
    assert archive.returncode == 0, f"needs a full clone: {archive.stderr.decode()}"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tmp_path / "old", filter="data")
    return tmp_path / "old"


@pytest.fixture
def new_database() -> Iterator[Callable[[], str]]:
    """Creates empty databases beside the test run's (named after its own), returns their
    URLs, and drops them at the end."""
    base = os.environ["DATABASE_URL"]
    prefix = urlsplit(base).path.lstrip("/")
    server = urlsplit(base)._replace(path="/postgres").geturl()
    created = []

    def create() -> str:
        name = f"{prefix}_forward_{secrets.token_hex(4)}"
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return urlsplit(base)._replace(path=f"/{name}").geturl()

    yield create
    with psycopg.connect(server, autocommit=True) as connection:
        for name in created:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            connection.execute(drop.format(sql.Identifier(name)))


@pytest.fixture
def manage(tmp_path) -> Callable[..., str]:
    """Runs `manage.py` of a checkout on a database, and returns what it printed.

    Each version has its own VAR_DIR under the test's temporary folder. Without
    REDIS_URL, tasks run in the process and nothing reaches the test run's Redis.
    """

    def run(checkout: Path, database_url: str, *args: str) -> str:
        env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY}
        env.update(
            DATABASE_URL=database_url,
            REDIS_URL="",
            DEBUG="1",
            SECRET_KEY="migrations-forward-test-key",
            VAR_DIR=str(tmp_path / ("var-new" if checkout == ROOT else "var-old")),
        )
        result = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "manage.py", *args],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{checkout}: manage.py {args[0]}\n{result.stderr}"
        return result.stdout

    return run


def _read(manage: Callable[..., str], checkout: Path, database_url: str, label: str) -> dict:
    """What READ_THROUGH_THE_ORM prints, run by that checkout."""
    code = READ_THROUGH_THE_ORM.format(label=label)
    printed = manage(checkout, database_url, "shell", "-v", "0", "-c", code)
    return json.loads(printed.splitlines()[-1])


def _row_counts(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url) as connection:
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        count = sql.SQL("SELECT count(*) FROM {}")
        return {
            table: connection.execute(count.format(sql.Identifier(table))).fetchone()[0]
            for (table,) in tables
        }


def _content_type_labels(database_url: str, model: str) -> list[str]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT app_label FROM django_content_type WHERE model = %s", [model]
        ).fetchall()
        return sorted(label for (label,) in rows)


def _schema(database_url: str) -> list[list[tuple]]:
    with psycopg.connect(database_url) as connection:
        return [sorted(connection.execute(query).fetchall()) for query in SCHEMA_QUERIES]


def test_a_database_of_the_previous_main_migrates_forward_with_all_its_rows(
    old_checkout, new_database, manage
):
    assert (TERRITORY_DATA / "communes.json").is_file(), "run `npm ci` for the territories"
    upgraded = new_database()
    manage(old_checkout, upgraded, "migrate", "-v", "0")
    manage(old_checkout, upgraded, "import_territories", "--data-dir", str(TERRITORY_DATA))
    manage(old_checkout, upgraded, "seed_demo", "--signatures", "50")
    manage(old_checkout, upgraded, "shell", "-v", "0", "-c", FILL_WITH_OLD_CODE)
    before = _row_counts(upgraded)
    assert [table for table in FILLED if not before[table]] == []
    read_by_old_code = _read(manage, old_checkout, upgraded, "alliance")

    manage(ROOT, upgraded, "migrate", "-v", "0")

    after = _row_counts(upgraded)
    assert {t: n for t, n in after.items() if t not in BOOKKEEPING} == {
        t: n for t, n in before.items() if t not in BOOKKEEPING
    }
    assert all(after[table] >= before[table] for table in BOOKKEEPING)
    # The heartbeat's content type moved with it, keeping the permissions granted on it.
    assert after["auth_permission"] == before["auth_permission"]
    assert _content_type_labels(upgraded, "workerheartbeat") == ["core"]
    fresh = new_database()
    manage(ROOT, fresh, "migrate", "-v", "0")
    assert _schema(upgraded) == _schema(fresh)
    manage(ROOT, upgraded, "makemigrations", "--check", "--dry-run")
    assert _read(manage, ROOT, upgraded, "core") == read_by_old_code
