"""The README's "your own municipality in five commands", run as written: each command in a
subprocess, against a small municipal site on 127.0.0.1, each line the README shows checked."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, free_port
from tests.crawl_site import page

SITE = "https://www.dalfsen.nl/"  # in the README; the test serves these pages instead
PAGES = {
    "/": page(
        "Gemeente Dalfsen",
        "<p>Alles over wonen, werken en regelen in Dalfsen.</p>",
        ["/paspoort/", "/grofvuil/"],
    ),
    "/paspoort/": page(
        "Paspoort aanvragen",
        "<p>Een paspoort voor volwassenen kost € 84,50. U vraagt het aan bij de balie in het "
        "gemeentehuis.</p><h2>Wat neemt u mee?</h2><p>Neem een recente pasfoto en uw oude paspoort mee.</p>",
    ),
    "/grofvuil/": page(
        "Grofvuil", "<p>Grofvuil wordt op afspraak opgehaald. Ophalen kost € 25,00 per keer.</p>"
    ),
}


def walkthrough() -> list[tuple[str, list[str]]]:
    """(command, the lines the README shows it prints) from the README's walkthrough block."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- walkthrough:start -->")[1].split("<!-- walkthrough:end -->")[0]
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps and line.strip() and not line.startswith("```"):
            steps[-1][1].append(line)
    return steps


def shown(line: str) -> re.Pattern[str]:
    """A line as the README shows it: '…' stands for anything."""
    pattern = ".*".join(re.escape(part.strip()) for part in line.split("…"))
    return re.compile(rf"(?m)^\s*{pattern}\s*$")


@pytest.fixture
def site() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            body = PAGES.get(self.path.split("?")[0])
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_the_readme_walkthrough_runs_as_written(site: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "VA_DATA_DIR": str(tmp_path / "data"),
        "VA_CRAWL_ALLOW_HOSTS": '["127.0.0.1"]',  # the test's site is on this machine
        "COLUMNS": "120",
    }
    for name in ("VA_LOG_LEVEL", "VA_LOG_JSON", "VA_DATABASE_URL", "VA_PORT"):
        env.pop(name, None)
    steps = walkthrough()
    assert [command.split()[:2] for command, _ in steps] == [
        ["va", "tenants"],
        ["va", "sources"],
        ["va", "crawl"],
        ["va", "ask"],
        ["va", "serve"],
    ]
    for command, lines in steps[:-1]:
        args = shlex.split(command.replace(SITE, site))[1:]
        run = subprocess.run(
            [sys.executable, "-m", "virtuele_assistent.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        output = run.stdout + run.stderr
        assert run.returncode == 0, (command, output)
        assert "Traceback" not in output and '{"' not in run.stderr, (command, output)  # no log lines
        for line in lines:
            assert shown(line.replace(SITE, site)).search(output), (command, line, output)

    serve, _ = steps[-1]
    port = free_port()
    args = shlex.split(serve.replace("8000", str(port)))[1:]
    server = subprocess.Popen(
        [sys.executable, "-m", "virtuele_assistent.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None and time.monotonic() < deadline, server.communicate()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        # the widget on the municipality's own pages: its script, and its configuration for that origin
        assert httpx.get(f"{base}/widget.js").status_code == 200
        origin = "https://www.dalfsen.nl"
        config = httpx.get(f"{base}/api/v1/tenants/dalfsen/widget-config", headers={"Origin": origin})
        assert config.status_code == 200 and config.headers["access-control-allow-origin"] == origin
        assert config.json()["name"] == "Gemeente Dalfsen"
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=60)
