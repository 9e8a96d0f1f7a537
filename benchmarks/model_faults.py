"""The local model's process killed while residents ask: every request answered, the API stays up.

    .venv/bin/python -m benchmarks.model_faults [--questions 100] [--kills 20] [--model PATH]

Runs ``va demo`` (the demo municipality, crawled and served) in its own process with the local model
(``VA_ANSWER_BACKEND=local``), waits until the model has written its test answer, then asks the demo
questions over ``POST /api/v1/tenants/voorbeeldstad/chat`` one after another; during ``--kills`` of
them, chosen at random, the model's process (a child of the server process) gets SIGKILL a moment
after the question was sent (the benchmark first waits until the model is back from the last kill;
questions in between are asked at once, so many of them come while it is being started again).
Reports the requests that failed (anything but 200), the answers per backend and fallback reason,
and whether the server's process is the one it started with.

Target (issue [local model]): 20 kills during 100 questions, 0 failed requests, every answer served
(extractive where the model died), the API's process unchanged.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from virtuele_assistent.answering.local_model import default_model_path  # noqa: E402
from virtuele_assistent.quality.evalset import load_jsonl  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def model_process(server_pid: int) -> int | None:
    """The server's child that runs the model (spawned by multiprocessing)."""
    for pid in children(server_pid):
        with contextlib.suppress(OSError):
            if b"multiprocessing" in (Path("/proc") / str(pid) / "cmdline").read_bytes():
                return pid
    return None


def model_ready(base: str) -> bool:
    models = httpx.get(f"{base}/readyz", timeout=5).json().get("models", {})
    return bool(models.get("local") == "ready")


def wait_until(check: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            value = check()
            if value:
                return value
        time.sleep(0.2)
    raise SystemExit(f"gave up waiting for {what}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--model", type=Path, default=None, help="GGUF file (default: the installed one)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    model = args.model or default_model_path()
    if not model.is_file():
        print(f"No local model at {model}: run `make local-llm` first.")
        return 2
    items = [q for q in load_jsonl(REPO / "demo" / "questions.jsonl") if not q.get("follow_up_of")]
    questions = [items[i % len(items)]["question"] for i in range(args.questions)]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="va-faults-") as data_dir:
        env = {
            **os.environ,
            "VA_DATA_DIR": data_dir,
            "VA_ANSWER_BACKEND": "local",
            "VA_LOCAL_MODEL_PATH": str(model),
            "VA_LOG_LEVEL": "WARNING",
            "VA_RATE_LIMIT_IP": "100000/minute",
            "VA_RATE_LIMIT_NEW_SESSIONS": "100000/minute",
            "VA_RATE_LIMIT_SESSION": "100000/minute",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "virtuele_assistent.cli", "demo", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            return run(args, server, base, questions)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()


def run(args: argparse.Namespace, server: subprocess.Popen[str], base: str, questions: list[str]) -> int:
    started_pid = server.pid
    wait_until(
        lambda: (
            httpx.get(f"{base}/readyz", timeout=5).json().get("models", {}).get("local") == "ready"
            and model_process(server.pid)
        ),
        600,
        "the demo to be crawled and the local model to be ready",
    )
    rng = random.Random(args.seed)
    # the questions during which the model's process is killed, a moment after they were asked
    kill_during = set(rng.sample(range(1, len(questions)), min(args.kills, len(questions) - 1)))
    kills: list[int] = []

    def kill() -> None:
        for _ in range(50):  # the process may be between two states for a moment
            pid = model_process(server.pid)
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                    kills.append(pid)
                    return
            time.sleep(0.1)

    outcomes: collections.Counter[str] = collections.Counter()
    failed = 0
    seconds: list[float] = []
    with httpx.Client(timeout=120) as client:
        for number, q in enumerate(questions):
            if number in kill_during:
                # kill a model that is there (after a kill it takes a few seconds to be back)
                wait_until(lambda: model_ready(base) and model_process(server.pid), 300, "the model")
                threading.Timer(rng.uniform(0.2, 1.5), kill).start()
            asked = time.monotonic()
            try:
                response = client.post(f"{base}/api/v1/tenants/voorbeeldstad/chat", json={"question": q})
            except httpx.HTTPError as error:
                failed += 1
                outcomes[f"failed: {type(error).__name__}"] += 1
                continue
            seconds.append(time.monotonic() - asked)
            if response.status_code != 200:
                failed += 1
                outcomes[f"failed: HTTP {response.status_code}"] += 1
                continue
            body = response.json()
            outcomes[f"{body['backend']}" + (f" ({body['fallback']})" if body.get("fallback") else "")] += 1
    alive = server.poll() is None
    print(f"questions asked: {len(questions)}, model process killed: {len(kills)} times")
    print(f"failed requests: {failed}")
    for outcome, count in outcomes.most_common():
        print(f"  {outcome}: {count}")
    ordered = sorted(seconds)
    if ordered:
        print(f"answer time p50 {ordered[len(ordered) // 2]:.2f} s, max {ordered[-1]:.2f} s")
    print(f"API process {started_pid}: {'still serving' if alive and server.pid == started_pid else 'GONE'}")
    met = failed == 0 and alive and len(kills) == len(kill_during)
    print(f"target (0 failed requests, the API's process unchanged): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
