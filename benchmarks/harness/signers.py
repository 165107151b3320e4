"""Signers over HTTP: load the form, then post it, each for a territory of its own.

A run has two phases, each measured alone. First `clients` threads load forms
for a while, each as a new visitor (its own CSRF cookie, address and IP).
Then, once the newest form is older than the site's robot threshold (a form
posted back within 0.5 s is kept aside silently, with no email), the same
threads post them all: the signatures/s are those of this second phase.
"""

import html
import itertools
import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from . import procs
from .load import Result, percentile, request, run_threads

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STARTED = re.compile(r'name="started" value="([^"]+)"')
COOKIE = re.compile(r"csrftoken=([^;]+)")
ERROR = re.compile(r'class="invalid-feedback[^"]*"[^>]*>(.*?)</', re.S)
ROBOT_SECONDS = 0.6  # signatures.views.sign.SUSPECT_FILL_SECONDS, with a margin
DOMAIN = "bench.invalid"  # reserved: these addresses exist only in the sink
# One numbering for the whole run: each signer's address and IP are new, so an email
# that arrives is this signer's, and no per-address or per-IP limit is shared.
_NUMBERS = itertools.count(1)


def new_number() -> int:
    return next(_NUMBERS)


@dataclass
class Form:
    number: int
    territory_id: int
    kind: str
    cookie: str
    token: str
    started: str
    loaded_at: float

    @property
    def ip(self) -> str:
        return f"10.{(self.number >> 16) & 255}.{(self.number >> 8) & 255}.{self.number & 255}"

    @property
    def email(self) -> str:
        # A domain per signer, as town halls have: no "many territories from one domain" flag.
        return f"maire@mairie-{self.number}.{DOMAIN}"

    def fields(self) -> dict:
        return {
            "csrfmiddlewaretoken": self.token,
            "started": self.started,
            "territory": self.territory_id,
            "first_name": "Camille",
            "last_name": f"Banc {self.number}",
            "function": "maire" if self.kind == "commune" else "president",
            "email": self.email,
            "consents_to_publication": "on",
            "declares_authorised": "on",
        }


class Signers:
    """Hands out free territories, loads forms, posts them, remembers who was accepted."""

    def __init__(self, base_url: str, slug: str, territories: list[tuple[int, str]]):
        self.path = f"/declarations/{slug}/signer/"
        self.url = base_url + self.path
        # What the browser saw: the site over HTTPS, through the proxy.
        self.origin = "https://" + base_url.split("://", 1)[1]
        self.territories = list(territories)
        self.lock = threading.Lock()
        self.accepted: list[str] = []
        self.refusals: list[str] = []

    def _take(self) -> tuple[int, int, str] | None:
        with self.lock:
            if not self.territories:
                return None
            return (new_number(), *self.territories.pop())

    def _load(self, forms: list[Form], limit: int) -> bool:
        if len(forms) >= limit:
            return False
        taken = self._take()
        if taken is None:
            return False
        number, territory_id, kind = taken
        status, headers, body = request(
            self.url, headers={"X-Forwarded-For": f"10.8.0.{number % 250}"}
        )
        page = body.decode()
        cookie = COOKIE.search(" ".join(headers.get_all("Set-Cookie") or []))
        if status != 200 or not cookie:
            with self.lock:
                self.refusals.append(f"form GET {status}")
            return True
        form = Form(
            number,
            territory_id,
            kind,
            cookie.group(1),
            CSRF.search(page).group(1),
            html.unescape(STARTED.search(page).group(1)),
            time.monotonic(),
        )
        with self.lock:
            forms.append(form)
        return True

    def _post(self, form: Form) -> None:
        status, headers, body = request(
            self.url,
            method="POST",
            body=urlencode(form.fields()).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={form.cookie}",
                "Origin": self.origin,
                "Referer": self.origin + self.path,
                "X-Forwarded-For": form.ip,
            },
        )
        with self.lock:
            if status == 302 and "/merci/" in (headers.get("Location") or ""):
                self.accepted.append(form.email)
            else:
                errors = [html.unescape(e.strip()) for e in ERROR.findall(body.decode())]
                self.refusals.append(f"POST {status} {' | '.join(errors)[:200]}")

    def run(
        self,
        *,
        clients: int,
        load_seconds: float,
        pids: tuple[list[int], list[int]],
        size: int,
        limit: int = 10**6,
        on_posting=None,
    ) -> Result:
        """Load forms for `load_seconds` (at most about `limit`), wait out the robot
        threshold, post them all. `on_posting()` is called as the posting starts."""
        forms: list[Form] = []
        run_threads(clients, lambda: self._load(forms, limit), time.monotonic() + load_seconds)
        time.sleep(
            max(
                0.0,
                max((f.loaded_at for f in forms), default=0) + ROBOT_SECONDS - time.monotonic(),
            )
        )
        accepted_before, refused_before = len(self.accepted), len(self.refusals)
        queue = list(forms)

        def post_next():
            with self.lock:
                if not queue:
                    return False
                form = queue.pop()
            self._post(form)
            return True

        if on_posting:
            on_posting()
        cpu_before, meter = time.process_time(), procs.CpuMeter(*pids)
        started = time.monotonic()
        latencies = run_threads(clients, post_next, started + 3600)
        elapsed = time.monotonic() - started
        client_cpu = time.process_time() - cpu_before
        server_cpu, stack_cpu, elsewhere_cpu = meter.stop(client_cpu)
        refusals = self.refusals[refused_before:]
        return Result(
            path="sign POST",
            size=size,
            clients=clients,
            requests=len(self.accepted) - accepted_before,
            seconds=elapsed,
            p50_ms=percentile(latencies, 0.5),
            p95_ms=percentile(latencies, 0.95),
            max_ms=max(latencies, default=0.0),
            errors=len(refusals),
            client_cpu=client_cpu,
            server_cpu=server_cpu,
            stack_cpu=stack_cpu,
            elsewhere_cpu=elsewhere_cpu,
            note=refusals[0] if refusals else "",
            extra={"forms": len(forms)},
        )
