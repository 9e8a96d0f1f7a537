"""Load test of the chat transport: N concurrent WebSocket conversations of T turns each.

Three processes on this machine:
1. a fake OpenAI-compatible LLM server that streams a fixed answer with a set time-to-first-token
   and speed (``/v1/chat/completions``, ``stream: true``);
2. one API server process (``va``'s app under uvicorn), whose answer backend streams from that fake
   LLM through the product's own client, ``answering.llm.OpenAIChatModel`` (``--answer-mode async``,
   the default: ``astream`` on the event loop, the way ``AnswerService.astream`` serves residents;
   ``thread``: the blocking ``stream`` in the chat worker pool, one thread per answer);
3. this client: asyncio WebSockets, one task per conversation, with think time between turns.

Load model: a resident reads the answer and types the next question, so a conversation pauses
``--think-s`` on average between turns (uniformly 0.5x to 1.5x; ~15-30 s is realistic for reading
a few sentences and typing one; 8 s is a stress case), and conversations start spread over
``--ramp-s`` (by default one think time, so that 500 residents do not all press enter in the same
second). Report several think times: the target holds for the realistic ones and the stress case
shows the headroom.

Platform overhead per turn = (done received - question sent) - (the LLM's configured TTFT +
tokens / speed); first-token overhead likewise against the TTFT. A message is lost when a turn
has no ``done`` or the streamed tokens do not add up to the ``done`` text. Server CPU and memory
come from /proc for the server process only.

    .venv/bin/python -m benchmarks.load_chat --conversations 500 --turns 10 --think-s 20
    .venv/bin/python -m benchmarks.load_chat --conversations 500 --turns 10 --think-s 8

Targets (issue 6): 500 concurrent conversations on 2 cores, 0 lost, p95 overhead <= 100 ms.
The machine is shared: figures are noisy; run it more than once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ORIGIN = "https://www.bench.example"
QUESTIONS = [
    "Wat kost een paspoort?",
    "Hoe vraag ik een parkeervergunning aan?",
    "Wanneer wordt het grofvuil opgehaald?",
    "Mijn BSN is 123456782, hoe geef ik mijn verhuizing door?",
    "Hoe lang is een rijbewijs geldig?",
    "Waar kan ik een melding doen van een kapotte lantaarnpaal?",
    "Can I apply for a passport in English?",
    "Hoeveel kost een ID-kaart voor kinderen?",
]
ANSWER_TEXT = (
    "Een paspoort voor volwassenen kost € 84,50 en is tien jaar geldig. Maak een afspraak bij het "
    "stadhuis en neem een recente pasfoto mee. U haalt het paspoort na vijf werkdagen op."
)
ANSWER_WORDS = ANSWER_TEXT.split(" ")
LLM_TIMEOUT_S = 60.0


# -- 1. the fake LLM ---------------------------------------------------------------------------


def fake_llm_app(ttft_s: float, tokens_per_s: float, tokens: int) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    # Encoded once: the load generator shares the machine with the server it measures.
    chunks = [
        "data: {}\n\n".format(
            json.dumps({"choices": [{"index": 0, "delta": {"content": (" " if i else "") + word}}]})
        ).encode()
        for i, word in enumerate(ANSWER_WORDS[i % len(ANSWER_WORDS)] for i in range(tokens))
    ]

    async def completions(request: Request) -> StreamingResponse:
        await request.json()

        async def events() -> AsyncIterator[bytes]:
            await asyncio.sleep(ttft_s)
            for i, chunk in enumerate(chunks):
                if i:
                    await asyncio.sleep(1 / tokens_per_s)
                yield chunk
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


# -- 2. the API server with a streaming LLM answer backend --------------------------------------


class StreamingLLMAnswers:
    """The AnswerService interface, answered through the product's OpenAI-compatible client
    (``answering.llm.OpenAIChatModel``) from the fake LLM; retrieval is left out, so the figures
    are the chat transport's: sessions, storage, redaction, guardrails, streaming and frames.
    ``stream`` runs in the chat worker pool; ``astream`` on the event loop."""

    def __init__(self, base_url: str) -> None:
        from virtuele_assistent.answering.llm import OpenAIChatModel

        self.model = OpenAIChatModel(base_url, "mock", retries=0)

    @staticmethod
    def _messages(
        question: str, history: Sequence[tuple[str, str]], language: str | None
    ) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": f"Antwoord in taal: {language or 'nl'}"}]
        messages += [{"role": "user" if r == "resident" else "assistant", "content": t} for r, t in history]
        messages.append({"role": "user", "content": question})
        return messages

    @staticmethod
    def _final(pieces: list[str]) -> Any:
        from virtuele_assistent.answering.service import Answer, SourceRef

        source = SourceRef(1, "https://www.bench.example/paspoort", "Paspoort aanvragen")
        return Answer("".join(pieces), [source], False)

    def stream(
        self, tenant: Any, question: str, history: Sequence[tuple[str, str]] = (), language: str | None = None
    ) -> Iterator[Any]:
        pieces: list[str] = []
        deadline = time.monotonic() + LLM_TIMEOUT_S
        for piece in self.model.stream(self._messages(question, history, language), 200, deadline):
            pieces.append(piece)
            yield piece
        yield self._final(pieces)

    def answer(
        self, tenant: Any, question: str, history: Sequence[tuple[str, str]] = (), language: str | None = None
    ) -> Any:
        final = None
        for item in self.stream(tenant, question, history, language):
            final = item
        return final


class AsyncStreamingLLMAnswers(StreamingLLMAnswers):
    """The same, with ``astream``: the chat service then streams on the event loop."""

    async def astream(
        self, tenant: Any, question: str, history: Sequence[tuple[str, str]] = (), language: str | None = None
    ) -> AsyncIterator[Any]:
        pieces: list[str] = []
        deadline = time.monotonic() + LLM_TIMEOUT_S
        async for piece in self.model.astream(self._messages(question, history, language), 200, deadline):
            pieces.append(piece)
            yield piece
        yield self._final(pieces)


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from virtuele_assistent.api.app import create_app
    from virtuele_assistent.services import Services
    from virtuele_assistent.settings import load_settings
    from virtuele_assistent.tenants.schemas import ContactRoutes, TenantCreate
    from virtuele_assistent.tenants.service import TenantExists, create_tenant

    overrides: dict[str, Any] = {
        "data_dir": Path(args.data_dir),
        "log_level": "WARNING",
        "chat_workers": min(2000, args.workers),
        "rate_limit_session": "100000/minute",
        "rate_limit_ip": "1000000/minute",
        "rate_limit_new_sessions": "1000000/minute",
    }
    if args.database_url:
        overrides["database_url"] = args.database_url
    if args.redis_url:
        overrides["redis_url"] = args.redis_url
        overrides["redis_prefix"] = f"va-bench-{os.getpid()}"
    settings = load_settings(**overrides)
    services = Services(settings)
    services.db.upgrade()
    with contextlib.suppress(TenantExists):
        create_tenant(
            services.db,
            TenantCreate(
                slug="bench",
                name="Gemeente Bench",
                contact=ContactRoutes(phone="14 0000"),
                allowed_origins=[ORIGIN],
            ),
        )
    answers_class = AsyncStreamingLLMAnswers if args.answer_mode == "async" else StreamingLLMAnswers
    services.__dict__["answers"] = answers_class(args.llm_url)
    from virtuele_assistent.observability.logging import configure_logging

    configure_logging(settings)
    uvicorn.run(
        create_app(settings, services),
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        access_log=False,
        ws_max_size=1 << 20,
        ws_per_message_deflate=False,
        backlog=4096,
    )


# -- 3. the client -------------------------------------------------------------------------------


@dataclass
class Stats:
    e2e_ms: list[float] = field(default_factory=list)
    first_token_ms: list[float] = field(default_factory=list)
    turns: int = 0
    lost: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    conversations_done: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


async def conversation(
    index: int, base: str, http: httpx.AsyncClient, stats: Stats, args: argparse.Namespace
) -> None:
    import websockets

    await asyncio.sleep(random.uniform(0, args.ramp_s))
    try:
        response = await http.post(f"{base}/api/v1/tenants/bench/sessions", headers={"Origin": ORIGIN})
        token = response.json()["token"]
    except Exception as error:
        stats.error(f"session:{type(error).__name__}")
        return
    url = base.replace("http://", "ws://") + f"/api/v1/tenants/bench/ws?token={token}"
    try:
        async with websockets.connect(url, origin=ORIGIN, open_timeout=60, max_size=1 << 20) as ws:  # type: ignore[arg-type]
            await ws.send(json.dumps({"type": "hello"}))
            ready = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if ready.get("type") != "ready":
                stats.error("no_ready")
                return
            for turn in range(args.turns):
                question = QUESTIONS[(index + turn) % len(QUESTIONS)]
                sent = time.perf_counter()
                await ws.send(json.dumps({"type": "question", "text": question}))
                first = None
                streamed = ""
                done = None
                while True:
                    try:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
                    except TimeoutError:
                        stats.error("timeout")
                        break
                    kind = frame.get("type")
                    if kind == "token":
                        if first is None:
                            first = time.perf_counter()
                        streamed += frame["text"]
                    elif kind == "done":
                        done = frame
                        break
                    elif kind == "error":
                        stats.error(f"frame:{frame.get('code')}")
                        break
                finished = time.perf_counter()
                stats.turns += 1
                if done is None or streamed.strip() != done["text"].strip():
                    stats.lost += 1
                else:
                    stats.e2e_ms.append((finished - sent) * 1000)
                    if first is not None:
                        stats.first_token_ms.append((first - sent) * 1000)
                await asyncio.sleep(args.think_s * random.uniform(0.5, 1.5))
            stats.conversations_done += 1
    except Exception as error:
        stats.error(f"ws:{type(error).__name__}")


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_mem_mb(pid: int) -> tuple[float, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            values[key] = int(value.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _wait_http(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_clients(base: str, args: argparse.Namespace, server_pid: int, llm_pid: int) -> dict[str, Any]:
    stats = Stats()
    limits = httpx.Limits(max_connections=200)
    cpu_before = _proc_cpu_s(server_pid)
    llm_cpu_before = _proc_cpu_s(llm_pid)
    client_cpu_before = time.process_time()
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        await asyncio.gather(*(conversation(i, base, http, stats, args) for i in range(args.conversations)))
    wall = time.perf_counter() - started
    cpu = _proc_cpu_s(server_pid) - cpu_before
    llm_cpu = _proc_cpu_s(llm_pid) - llm_cpu_before
    client_cpu = time.process_time() - client_cpu_before
    rss, peak = _proc_mem_mb(server_pid)
    llm_ms = args.ttft_ms + max(0, args.tokens - 1) * 1000 / args.tokens_per_s
    overhead = [v - llm_ms for v in stats.e2e_ms]
    first_overhead = [v - args.ttft_ms for v in stats.first_token_ms]
    return {
        "conversations": args.conversations,
        "turns_per_conversation": args.turns,
        "answer_mode": args.answer_mode,
        "think_s": args.think_s,
        "ramp_s": args.ramp_s,
        "database": "postgresql" if args.database_url else "sqlite",
        "turns_completed": stats.turns,
        "conversations_completed": stats.conversations_done,
        "lost": stats.lost,
        "errors": stats.errors,
        "wall_s": round(wall, 1),
        "turns_per_s": round(stats.turns / wall, 1),
        "llm_ms_per_turn": round(llm_ms, 1),
        "overhead_ms_p50": round(_pct(overhead, 0.5), 1),
        "overhead_ms_p95": round(_pct(overhead, 0.95), 1),
        "overhead_ms_max": round(max(overhead), 1) if overhead else None,
        "first_token_overhead_ms_p50": round(_pct(first_overhead, 0.5), 1),
        "first_token_overhead_ms_p95": round(_pct(first_overhead, 0.95), 1),
        "server_cpu_s": round(cpu, 1),
        "server_cpu_pct_of_one_core": round(100 * cpu / wall, 1),
        "server_cpu_ms_per_turn": round(1000 * cpu / max(1, stats.turns), 1),
        # The load generator shares the machine: its CPU is not the server's to use.
        "fake_llm_cpu_pct_of_one_core": round(100 * llm_cpu / wall, 1),
        "client_cpu_pct_of_one_core": round(100 * client_cpu / wall, 1),
        "server_rss_mb": round(rss, 1),
        "server_peak_rss_mb": round(peak, 1),
        "e2e_ms_mean": round(statistics.fmean(stats.e2e_ms), 1) if stats.e2e_ms else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument(
        "--think-s",
        type=float,
        default=20.0,
        help="mean pause between turns: reading the answer and typing the next question",
    )
    parser.add_argument(
        "--ramp-s",
        type=float,
        default=None,
        help="conversations start spread over this time (default: one think time)",
    )
    parser.add_argument("--ttft-ms", type=float, default=300.0, help="fake LLM time to first token")
    parser.add_argument("--tokens-per-s", type=float, default=50.0, help="fake LLM speed")
    parser.add_argument("--tokens", type=int, default=30, help="tokens per answer")
    parser.add_argument("--answer-mode", choices=("thread", "async"), default="async")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument(
        "--redis-url", default=None, help="Redis URL for limits and fan-out (default: in-process)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    sub = parser.add_subparsers(dest="command")
    llm = sub.add_parser("fake-llm")
    llm.add_argument("--port", type=int, required=True)
    llm.add_argument("--ttft-ms", type=float, default=300.0)
    llm.add_argument("--tokens-per-s", type=float, default=50.0)
    llm.add_argument("--tokens", type=int, default=30)
    srv = sub.add_parser("serve")
    srv.add_argument("--port", type=int, required=True)
    srv.add_argument("--llm-url", required=True)
    srv.add_argument("--data-dir", required=True)
    srv.add_argument("--workers", type=int, default=64)
    srv.add_argument("--answer-mode", choices=("thread", "async"), default="async")
    srv.add_argument("--database-url", default=None)
    srv.add_argument("--redis-url", default=None)
    args = parser.parse_args(argv)

    if args.command is None and args.ramp_s is None:
        args.ramp_s = args.think_s
    if args.command == "fake-llm":
        import uvicorn

        app = fake_llm_app(args.ttft_ms / 1000, args.tokens_per_s, args.tokens)
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", backlog=4096)
        return 0
    if args.command == "serve":
        serve(args)
        return 0

    llm_port, api_port = _free_port(), _free_port()
    me = [sys.executable, "-m", "benchmarks.load_chat"]
    with tempfile.TemporaryDirectory() as data_dir:
        processes = [
            subprocess.Popen(
                [
                    *me,
                    "fake-llm",
                    "--port",
                    str(llm_port),
                    "--ttft-ms",
                    str(args.ttft_ms),
                    "--tokens-per-s",
                    str(args.tokens_per_s),
                    "--tokens",
                    str(args.tokens),
                ]
            ),
        ]
        server_cmd = [
            *me,
            "serve",
            "--port",
            str(api_port),
            "--llm-url",
            f"http://127.0.0.1:{llm_port}/v1",
            "--data-dir",
            data_dir,
            "--workers",
            # A blocking stream holds a worker thread per answer; on the event loop the threads only
            # run the short storage steps, and the product's default pool size fits.
            str(args.conversations + 16 if args.answer_mode == "thread" else 64),
            "--answer-mode",
            args.answer_mode,
        ]
        if args.database_url:
            server_cmd += ["--database-url", args.database_url]
        if args.redis_url:
            server_cmd += ["--redis-url", args.redis_url]
        server = subprocess.Popen(server_cmd)
        processes.append(server)
        try:
            _wait_http(f"http://127.0.0.1:{llm_port}/")
            base = f"http://127.0.0.1:{api_port}"
            _wait_http(f"{base}/healthz")
            result = asyncio.run(run_clients(base, args, server.pid, processes[0].pid))
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(10)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        width = max(len(k) for k in result)
        print("\nload_chat results")
        for key, value in result.items():
            print(f"  {key:<{width}}  {value}")
        ok = result["lost"] == 0 and not result["errors"] and result["overhead_ms_p95"] <= 100
        print(f"  {'target (0 lost, no errors, p95 <= 100 ms)':<{width}}  {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
