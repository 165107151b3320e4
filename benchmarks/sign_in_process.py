"""Time the sign POST in-process, with real commits and the Celery publish, then profile it.

Run by hand on a scratch database (it migrates it and adds territories "Prof N"):
    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE alliance_prof2"
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/alliance_prof2 \
      REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python benchmarks/sign_in_process.py
Tasks pile up in the Redis database given (no worker): flush it afterwards. Each POST comes
from its own address and IP, so no rate limit or burst flag applies.
"""

import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")

import django

django.setup()

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from declarations.models import Declaration
from territories.models import Territory
from tests.factories import signature_form_data

SLUG = "alliance-des-territoires"


def main() -> None:
    call_command("migrate", verbosity=0)
    declaration = Declaration.objects.get(slug=SLUG)
    start = Territory.objects.filter(code__startswith="Z").count()
    places = [
        Territory.objects.create(
            kind="commune",
            code=f"Z{start + i:05d}",
            name=f"Prof {start + i}",
            search_name=f"prof {start + i}",
            is_referential=True,
        )
        for i in range(400)
    ]
    client = Client()
    url = reverse("signatures:sign", args=[SLUG])
    client.get(url)

    def sign(territories) -> list[float]:
        times = []
        for place in territories:
            began = time.perf_counter()
            response = client.post(
                url,
                signature_form_data(
                    territory=place.pk, function="maire", email=f"m@mairie-{place.pk}.fr"
                ),
                REMOTE_ADDR=f"10.1.{place.pk // 250 % 250}.{place.pk % 250}",
            )
            assert response.status_code == 302, response.status_code
            times.append((time.perf_counter() - began) * 1000)
        return sorted(times)

    sign(places[:20])  # warm-up
    times = sign(places[20:220])
    p50, p95 = times[len(times) // 2], times[int(len(times) * 0.95)]
    print(f"sign POST: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    profile = cProfile.Profile()
    profile.enable()
    sign(places[220:])
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
    print(out.getvalue())
    print(f"declaration {declaration.slug}: {declaration.signatures.count()} signatures")


if __name__ == "__main__":
    main()
