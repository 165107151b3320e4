import pytest

from territories.models import Territory
from territories.referential import import_referential


@pytest.fixture(scope="module")
def referential(django_db_setup, django_db_blocker):
    """The real referential, committed once and shared: importing it takes seconds.

    A previous module may have left it (nothing to do), a transactional test may
    have flushed it (import again).
    """
    with django_db_blocker.unblock():
        if Territory.objects.filter(is_referential=True).count() < 30_000:
            import_referential()
