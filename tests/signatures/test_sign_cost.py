"""What one signature costs the database: validation, one transaction, the queueing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import bulk_signatures, signature_form_data

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("already_signed", [0, 2000])
def test_signing_runs_seven_statements_whatever_the_table_size(
    client, declaration, territory, already_signed, django_capture_on_commit_callbacks
):
    """Declaration, territory, the locked read of its holders, the row, the email cap
    (lock, then count and claim in one statement) and the queue stamp. No savepoint.
    The flags come after, in a task."""
    bulk_signatures(declaration, already_signed)
    url = reverse("signatures:sign", args=[declaration.slug])
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        response = client.post(url, signature_form_data(territory=territory.pk))
    assert response.status_code == 302
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    expected = 7 if connection.vendor == "postgresql" else 6  # no advisory lock on SQLite
    # The test's own transaction turns the service's into a savepoint; none around the row.
    assert len(queries) - len(statements) == 2
    assert len(statements) == expected, statements
    assert not any("django_session" in sql for sql in statements)  # no session row
    assert len(callbacks) == 2  # the flags' task and the confirmation email
