import pytest

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_declaration_page_renders_in_chromium(page):
    from declarations.models import Declaration

    declaration = Declaration.objects.get(slug="alliance-des-territoires")
    page.goto(declaration.get_absolute_url())
    assert page.get_by_role("heading", level=1).inner_text().startswith("Saisissons")
