"""A crawl stopped with Ctrl-C or SIGTERM releases its job at once; the next `va crawl` (no server
running) takes it over and finishes it from the journal, with no page lost or indexed twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.crawl_site import page

PAGES = 12
DELAY_S = 0.25


class SlowSite:
    """Twelve Dutch pages behind an index, each served after a short delay, counting requests."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.fetched = threading.Condition(self.lock)
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                path = self.path.split("?")[0]
                kind = "text/html; charset=utf-8"
                with site.fetched:
                    site.requests[path] += 1
                    site.fetched.notify_all()
                time.sleep(DELAY_S)
                if path == "/afvalkalender-downloaden":  # not an answer source: skipped, with its type
                    body, kind = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "application/octet-stream"
                elif path in ("/", "/index.html"):
                    links = [f"/onderwerp-{n}.html" for n in range(PAGES)] + ["/afvalkalender-downloaden"]
                    body = page(
                        "Gemeente Traagstad", "<p>Alle onderwerpen van de gemeente Traagstad.</p>", links
                    )
                elif path.startswith("/onderwerp-"):
                    number = path.removeprefix("/onderwerp-").removesuffix(".html")
                    text = f"<p>Onderwerp {number}: u regelt dit bij de balie van het stadhuis.</p>"
                    body = page(f"Onderwerp {number}", text * 3, ["/"])
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a crawl stopped mid-request closes its connections: expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for_pages(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` topic pages have been asked for."""
        with self.fetched:
            return self.fetched.wait_for(
                lambda: sum(n for p, n in self.requests.items() if p.startswith("/onderwerp-")) >= count,
                timeout,
            )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site() -> Iterator[SlowSite]:
    served = SlowSite()
    yield served
    served.close()


def va(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "virtuele_assistent.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_crawl_is_finished_by_the_next_crawl_command(
    site: SlowSite, tmp_path: Path, stop: signal.Signals
) -> None:
    env = {
        **os.environ,
        "VA_DATA_DIR": str(tmp_path / "data"),
        "VA_CRAWL_ALLOW_HOSTS": '["127.0.0.1"]',
        "VA_LOG_LEVEL": "WARNING",
        "VA_JOB_LEASE_S": "600",  # a lease that would keep the job for ten minutes if it were kept
    }
    env.pop("VA_DATABASE_URL", None)
    assert va(env, "tenants", "create", "traagstad", "Gemeente Traagstad").returncode == 0
    added = va(env, "sources", "add", "traagstad", "website", "--start-url", f"{site.base}/", "--rps", "0")
    assert added.returncode == 0, added.stderr

    first = subprocess.Popen(
        [sys.executable, "-m", "virtuele_assistent.cli", "crawl", "traagstad", "website"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert site.wait_for_pages(3, timeout=90), "the crawl did not start"
        first.send_signal(stop)
        out, err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130, out + err
    assert "va crawl traagstad website" in out, out  # says how to resume
    assert "Traceback" not in out + err

    started = time.monotonic()
    second = va(env, "crawl", "traagstad", "website", timeout=60)
    assert second.returncode == 0, second.stdout + second.stderr
    assert time.monotonic() - started < 30
    assert "continuing" in second.stdout and ": done." in second.stdout, second.stdout

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'data' / 'va.db'}")
    with engine.connect() as connection:
        urls = [row[0] for row in connection.execute(sa.text("SELECT url FROM documents"))]
        jobs = list(connection.execute(sa.text("SELECT status, worker_id FROM jobs")))
    engine.dispose()
    topics = sorted(u for u in urls if "/onderwerp-" in u)
    assert topics == sorted(
        {f"{site.base}/onderwerp-{n}.html" for n in range(PAGES)}
    )  # none lost, none twice
    assert [status for status, _ in jobs] == ["done"]


def test_a_job_nobody_runs_is_taken_over_and_one_with_a_live_worker_is_not() -> None:
    from datetime import timedelta

    from virtuele_assistent.jobs.service import abandoned
    from virtuele_assistent.storage.models import utcnow

    lease_s, poll_s = 60, 5

    def _abandoned(job: SimpleNamespace, quiet_s: float) -> bool:
        return abandoned(job, lease_s, poll_s, quiet_s)  # type: ignore[arg-type]

    def job(status: str, beat_s_ago: float | None = None, **progress: object) -> SimpleNamespace:
        beat = None if beat_s_ago is None else utcnow() - timedelta(seconds=beat_s_ago)
        return SimpleNamespace(status=status, heartbeat_at=beat, progress=progress)

    assert _abandoned(job("queued", interrupted=True), quiet_s=0)  # given back by Ctrl-C
    assert not _abandoned(job("queued"), quiet_s=1)  # a worker may still take it
    assert _abandoned(job("queued"), quiet_s=11)  # no worker took it
    assert _abandoned(job("running", beat_s_ago=90), quiet_s=0)  # its worker is gone
    assert not _abandoned(job("running", beat_s_ago=5), quiet_s=0)
    assert not _abandoned(job("done"), quiet_s=999)
