"""Random input everywhere a visitor can type: never a server error.

Hypothesis draws text (NUL, control and invisible characters, every script) for
every form field and query parameter; schemathesis derives requests from the
API's own OpenAPI schema and checks every answer against it.
"""

import pytest
import schemathesis
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signatures.forms import ContestForm, SignatureForm
from tests.factories import DeclarationFactory, SignatureFactory, TerritoryFactory, fake_siren

pytestmark = pytest.mark.django_db

# Any character a browser can send: everything but lone surrogates, which UTF-8 cannot carry.
TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SIGN_FIELDS = sorted(SignatureForm.base_fields)
CONTEST_FIELDS = sorted(ContestForm.base_fields)


@pytest.fixture
def fuzz_places(declaration):
    territory = TerritoryFactory(kind="commune", siren=fake_siren(31))
    live = SignatureFactory(declaration=declaration, status="published")
    return {"territory": territory, "live": live}


def _ip(data) -> str:
    """A different address per example, so rate limits do not hide the code under test."""
    return f"10.{data.draw(st.integers(0, 255))}.{data.draw(st.integers(0, 255))}.1"


@FUZZ
@given(data=st.data())
def test_signing_form_never_fails_whatever_is_typed(client, declaration, fuzz_places, data):
    fields = data.draw(st.dictionaries(st.sampled_from([*SIGN_FIELDS, "action"]), TEXT))
    response = client.post(
        reverse("signatures:sign", args=[declaration.slug]), fields, REMOTE_ADDR=_ip(data)
    )
    assert response.status_code < 500, fields


@FUZZ
@given(data=st.data())
def test_contest_and_resend_forms_never_fail_whatever_is_typed(client, fuzz_places, data):
    contest = data.draw(st.dictionaries(st.sampled_from(CONTEST_FIELDS), TEXT))
    url = reverse("signatures:contest", args=[fuzz_places["live"].public_id])
    assert client.post(url, contest, REMOTE_ADDR=_ip(data)).status_code < 500, contest
    resend = {"email": data.draw(TEXT)}
    response = client.post(reverse("signatures:resend"), resend, REMOTE_ADDR=_ip(data))
    assert response.status_code < 500, resend


PUBLIC_PAGES = ["public:list", "public:list_updates", "public:csv", "public:statistics"]
QUERY_PARAMETERS = ["q", "kind", "region", "departement", "network", "sort", "page", "depuis"]


@FUZZ
@given(data=st.data())
def test_public_pages_never_fail_whatever_the_query_string(client, declaration, fuzz_places, data):
    name = data.draw(st.sampled_from(PUBLIC_PAGES))
    params = data.draw(st.dictionaries(st.sampled_from(QUERY_PARAMETERS), TEXT))
    response = client.get(reverse(name, args=[declaration.slug]), params)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    assert response.status_code < 500, (name, params)


@FUZZ
@given(query=TEXT, token=TEXT.filter(lambda t: "/" not in t and t.strip()))
def test_search_and_links_never_fail_whatever_is_typed(client, declaration, query, token):
    assert client.get(reverse("territories:search"), {"q": query}).status_code < 500
    assert client.get(reverse("signatures:confirm", args=[token])).status_code < 500
    assert client.get(reverse("signatures:contest", args=[token])).status_code < 500


@pytest.mark.django_db(transaction=True)
def test_api_answers_follow_its_schema_and_never_fail(live_server, migration_data):
    """Every operation of /api/openapi.json, with generated parameters, over HTTP.

    Checks the status codes, headers and bodies the schema declares, and that none is a 5xx.
    """
    declaration = DeclarationFactory(slug="alliance-test")
    SignatureFactory(declaration=declaration, status="published")
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 3
    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def check(case):
            response = case.call(base_url=live_server.url)
            assert response.status_code < 500, case.as_curl_command()
            case.validate_response(response)

        check()
