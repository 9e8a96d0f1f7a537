"""Where a running server answers, written into the data folder so that a `va` command started beside
it (with its own settings) finds it: ``server.json`` with the URL and the server's process id."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

from virtuele_assistent.settings import Settings

FILE = "server.json"


def _client_host(host: str) -> str:
    """An address to reach the server at: a wildcard interface is reached on this machine's loopback."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


@contextmanager
def published(settings: Settings, host: str, port: int) -> Iterator[str]:
    """Write the server's address for as long as the block runs; returns the URL."""
    path = settings.data_dir / FILE
    url = f"http://{_client_host(host)}:{port}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    try:
        yield url
    finally:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()


def running_server(settings: Settings) -> str | None:
    """The URL of the server that holds this data folder, if its process is still running."""
    try:
        written = json.loads((settings.data_dir / FILE).read_text())
        os.kill(int(written["pid"]), 0)  # signal 0: only whether the process exists
        return str(written["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
