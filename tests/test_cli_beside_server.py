"""`va` commands beside a running server on the same data folder: `va serve` publishes its address,
`va ask` finds it without VA_PORT, `va ingest` hands the files to the server's worker; when the
server stops, its address goes and the commands work in-process again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.test_crawl_interrupted import va
from tests.test_ingest_and_search import write_site


def _wait_for(url: str, server: subprocess.Popen[str], timeout: float = 90) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


def test_cli_commands_find_and_use_a_running_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "VA_DATA_DIR": str(data), "VA_LOG_LEVEL": "WARNING", "VA_WORKER_POLL_S": "0.5"}
    for name in ("VA_DATABASE_URL", "VA_PORT", "VA_HOST"):
        env.pop(name, None)
    assert va(env, "tenants", "create", "dalfsen", "Gemeente Dalfsen").returncode == 0
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "virtuele_assistent.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", server)
        assert json.loads((data / "server.json").read_text())["url"] == f"http://127.0.0.1:{port}"

        site = write_site(
            tmp_path / "site",
            "Dalfsen",
            {"paspoort.html": ("Paspoort aanvragen", "<p>Een paspoort voor volwassenen kost € 84,50.</p>")},
        )
        (site / "foto.jpg").write_bytes(b"\xff\xd8\xff")
        ingest = va(env, "ingest", "dalfsen", str(site), "--base-url", "https://www.dalfsen.nl/")
        out = ingest.stdout + ingest.stderr
        assert ingest.returncode == 0, out
        assert "its worker indexes the files" in out and "new=1" in out, out
        assert "skipped https://www.dalfsen.nl/foto.jpg: bestandstype .jpg wordt niet ondersteund" in out, out
        assert "Traceback" not in out

        ask = va(env, "ask", "dalfsen", "Wat kost een paspoort?", "--json")  # no VA_PORT: the address file
        assert ask.returncode == 0, ask.stdout + ask.stderr
        assert "84,50" in json.loads(ask.stdout)["answer"]
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=60)
    assert not (data / "server.json").exists()

    again = va(env, "ask", "dalfsen", "Wat kost een paspoort?")  # no server: answered in-process
    assert again.returncode == 0 and "84,50" in again.stdout, again.stdout + again.stderr


def test_an_address_left_by_a_stopped_server_is_ignored(tmp_path: Path) -> None:
    from tests.conftest import make_settings
    from virtuele_assistent.api.address import published, running_server

    settings = make_settings(tmp_path)
    assert running_server(settings) is None
    with published(settings, "0.0.0.0", 8123) as url:
        assert url == running_server(settings) == "http://127.0.0.1:8123"
    assert running_server(settings) is None
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (tmp_path / "server.json").write_text(
        json.dumps({"url": "http://127.0.0.1:8123", "pid": int(finished.stdout)})
    )
    assert running_server(settings) is None  # its process is gone
    (tmp_path / "server.json").write_text("{kapot")
    assert running_server(settings) is None
