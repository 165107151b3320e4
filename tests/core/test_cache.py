"""core/cache.py: Django's Redis cache, one redis-py client per pool, on a real Redis."""

import threading

import pytest
from django.conf import settings

from core.cache import RedisCache

pytestmark = pytest.mark.redis


@pytest.fixture
def cache():
    backend = RedisCache(
        settings.REDIS_URL, {"KEY_PREFIX": "test-cache", "OPTIONS": {"socket_timeout": 2}}
    )
    yield backend
    backend.delete_many(["counter", "word"])


def test_one_client_serves_every_operation(cache):
    client = cache._cache.get_client()
    cache.set("word", "bonjour", 30)
    assert cache.get("word") == "bonjour"
    assert cache.add("counter", 1, 30)
    assert not cache.add("counter", 1, 30)
    assert cache.incr("counter") == 2
    assert cache._cache.get_client(write=True) is client


def test_threads_sharing_the_client_lose_no_increment(cache):
    cache.set("counter", 0, 30)

    def add_hundred():
        for _ in range(100):
            cache.incr("counter")

    threads = [threading.Thread(target=add_hundred) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get("counter") == 800
