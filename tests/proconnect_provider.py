"""The local ProConnect stand-in (tests/proconnect/provider.mjs, npm's oidc-provider) for tests.

`StandIn(redirect_uris)` starts it with Node on a free loopback port, waits until its
discovery document answers, and stops it on exit. `sign_in` and `cancel` play the person
at the provider with plain HTTP (requests, its own cookie jar) and return the URL the
provider sends the browser back to, without following it: the caller takes it to our site
with Django's test client.

Accounts: the login `email|SIREN|NIC[|given name|usual name]`, see provider.mjs.
"""

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin

import requests

from tests.smtp_sink import free_port

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests/proconnect/provider.mjs"
CLIENT_ID = "alliance-dev"  # userinfo as a signed JWT, as ProConnect sends it
JSON_CLIENT_ID = "alliance-dev-json"  # userinfo as plain JSON
CLIENT_SECRET = "alliance-dev-secret"
MARIE = "marie@mairie-toulouse.fr|213105554|00012"
START_TIMEOUT_SECONDS = 20


def missing() -> str | None:
    """Why the stand-in cannot run here, or None."""
    if not shutil.which("node"):
        return "Node.js is not installed (the ProConnect stand-in runs on it)"
    if not (ROOT / "node_modules/oidc-provider/package.json").exists():
        return "npm's oidc-provider is not installed (npm ci, or make assets)"
    return None


class StandIn:
    """The stand-in provider in a Node subprocess, for the duration of a `with` block."""

    def __init__(self, redirect_uris: list[str], port: int | None = None):
        self.port = port or free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.redirect_uris = redirect_uris
        self._process = None
        self._log = None

    def __enter__(self) -> "StandIn":
        self._log = tempfile.TemporaryFile()
        env = {**os.environ, "PROCONNECT_REDIRECT_URIS": ",".join(self.redirect_uris)}
        self._process = subprocess.Popen(  # noqa: S603 - fixed command, our own script
            [shutil.which("node"), str(SCRIPT), str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_up()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._log:
            self._log.close()

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the ProConnect stand-in stopped:\n{self.output()}")
            try:
                response = requests.get(
                    f"{self.issuer}/.well-known/openid-configuration", timeout=1
                )
                if response.ok and response.json()["issuer"] == self.issuer:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the ProConnect stand-in did not start:\n{self.output()}")

    def sign_in(self, authorization_url: str, login: str = MARIE) -> str:
        """Sign in at the provider as `login`; the URL of the redirect back to our site."""
        http = requests.Session()
        page = http.get(authorization_url, timeout=10)
        page.raise_for_status()
        action = _form_action(page.text, "login")
        response = http.post(
            urljoin(page.url, action), data={"login": login}, allow_redirects=False, timeout=10
        )
        return self._back_to_client(http, response)

    def cancel(self, authorization_url: str) -> str:
        """Press « Annuler » at the provider; the URL of the redirect back to our site."""
        http = requests.Session()
        page = http.get(authorization_url, timeout=10)
        page.raise_for_status()
        action = _form_action(page.text, "abort")
        response = http.post(urljoin(page.url, action), allow_redirects=False, timeout=10)
        return self._back_to_client(http, response)

    def _back_to_client(self, http: requests.Session, response: requests.Response) -> str:
        """Follow the provider's own redirects; stop at the first one leaving it."""
        for _ in range(10):
            if not response.is_redirect:
                raise AssertionError(
                    f"the stand-in answered {response.status_code}: {response.text[:500]}"
                )
            location = urljoin(response.url, response.headers["Location"])
            if not location.startswith(self.issuer + "/"):
                return location
            response = http.get(location, allow_redirects=False, timeout=10)
        raise AssertionError("too many redirects at the stand-in")


def _form_action(html: str, name: str) -> str:
    match = re.search(rf'action="([^"]*/{name})"', html)
    if not match:
        raise AssertionError(f"no {name} form on the stand-in's page:\n{html[:1000]}")
    return match.group(1)
