"""The local model in a child process: when llama.cpp crashes, hangs or runs out of memory, one answer
falls back to the extractive one; the API process and every other resident carry on.

One child per API process. It imports the model (``factory``, "module:callable", with its arguments),
says it is ready, and then serves one request at a time over a pipe: ``prime`` (evaluate a system
prompt now) or ``stream`` (the pieces of an answer). The parent never imports llama.cpp.

- A child that dies (a signal such as SIGILL or SIGKILL, an abort, out of memory) is noticed while an
  answer is read, logged once with its exit code, and the answer gets ``LLMCrashed`` (the fallback
  ``model_crashed``). A new child is started in the background after a back-off (1 s, 2 s, 4 s, … up
  to a minute; back to 1 s once an answer succeeds), and the remembered system prompts are evaluated
  again. Until it is ready, answers fall back at once.
- A child that does not answer by the deadline gets a cancel; when it does not stop within
  ``CANCEL_GRACE_S`` it is taken to hang, killed and restarted the same way.
- Answers wait for the model at most ``queue_wait_s`` (``OneAtATime``), so the queue stays short.
"""

from __future__ import annotations

import importlib
import multiprocessing
import multiprocessing.connection
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from virtuele_assistent.answering.llm import (
    LLMBusy,
    LLMCrashed,
    LLMError,
    LLMTimeout,
    Message,
    OneAtATime,
    complete,
)

if TYPE_CHECKING:
    from virtuele_assistent.settings import Settings

log = structlog.get_logger(__name__)

START_TIMEOUT_S = 300.0  # loading a 1.1 GB model from a cold disk on a small machine
CANCEL_GRACE_S = 2.0
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0)
REMEMBERED_PROMPTS = 8  # system prompts evaluated again in a new child (one per tenant)
_POLL_S = 0.05
# The test answer: one short generation, as a resident's answer is made.
CHECK_MESSAGES: list[Message] = [{"role": "user", "content": "Antwoord met één woord: hallo."}]
CHECK_TOKENS = 8
CHECK_TIMEOUT_S = 120.0


def _build(factory: str) -> Callable[..., Any]:
    module, _, name = factory.partition(":")
    built: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return built


def _serve(
    conn: multiprocessing.connection.Connection, factory: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """The child: build the model, say so, then serve requests until the parent closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C stops the server, which stops the child
    try:
        model = _build(factory)(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - any failure to load is reported, not raised
        conn.send(("failed", f"{type(error).__name__}: {error}"))
        return
    conn.send(("ready", str(getattr(model, "name", factory))))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request[0] == "prime":
            _answer(conn, _prime, model, request[1])
        elif request[0] == "stream":
            _, messages, max_tokens, seconds = request
            _answer(conn, _stream, conn, model, messages, max_tokens, time.monotonic() + seconds)
        # anything else (a cancel that came after its answer was done) is ignored


def _answer(conn: multiprocessing.connection.Connection, work: Callable[..., None], *args: Any) -> None:
    """Do one request and tell the parent how it ended."""
    try:
        work(*args)
    except LLMError as error:
        conn.send(("error", type(error).__name__, str(error)))
    except Exception as error:  # noqa: BLE001 - llama.cpp raises plain exceptions
        conn.send(("error", "LLMError", f"local model failed: {error}"))
    else:
        conn.send(("done",))


def _prime(model: Any, messages: list[Message]) -> None:
    prime = getattr(model, "prime", None)
    if prime is not None:
        prime(messages)


def _stream(
    conn: multiprocessing.connection.Connection,
    model: Any,
    messages: list[Message],
    max_tokens: int,
    deadline: float,
) -> None:
    pieces = model.stream(messages, max_tokens, deadline)
    try:
        for piece in pieces:
            conn.send(("piece", piece))
            if conn.poll():  # the parent has read enough: stop writing
                conn.recv()
                return
    finally:
        pieces.close()


class ProcessChatModel:
    """A ``ChatModel`` whose generation runs in a child process (see the module's description)."""

    def __init__(
        self,
        factory: str,
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
        queue_wait_s: float = 2.0,
        start_timeout_s: float = START_TIMEOUT_S,
        backoff_s: Sequence[float] = BACKOFF_S,
    ) -> None:
        self.factory, self.args, self.kwargs = factory, tuple(args), dict(kwargs or {})
        self.name = factory
        self.start_timeout_s = start_timeout_s
        self.backoff_s = tuple(backoff_s)
        self.crashes = 0  # in a row: the back-off grows with them
        self.restarts = 0
        self.last_problem = ""  # how the last process ended that was not stopped on purpose
        self._turns = OneAtATime(queue_wait_s)
        self._state = threading.Lock()
        # Set once the last lost process is recorded (``last_problem``): a thread that finds another
        # one already handling the loss waits for it, so that both tell the same cause.
        self._recorded = threading.Event()
        self._recorded.set()
        self._process: Any = None
        self._conn: multiprocessing.connection.Connection | None = None
        self._restarting = False
        self._closed = False
        self._prompts: list[list[Message]] = []  # system prompts to evaluate again in a new child
        self._start()  # LLMError when the model cannot be loaded at all

    @property
    def pid(self) -> int | None:
        with self._state:
            return self._process.pid if self._process is not None else None

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or locks inherited
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve, args=(child, self.factory, self.args, self.kwargs), name="va-model", daemon=True
        )
        process.start()
        child.close()
        try:
            if not parent.poll(self.start_timeout_s):
                raise LLMError(f"model process did not start within {self.start_timeout_s:.0f} s")
            message = parent.recv()
        except (EOFError, OSError):
            process.join(1)
            raise LLMError(f"model process exited while starting ({_exit(process.exitcode)})") from None
        except LLMError:
            process.kill()
            process.join(1)
            raise
        if message[0] != "ready":
            process.join(1)
            raise LLMError(str(message[1]))
        with self._state:
            self.name, self._process, self._conn = str(message[1]), process, parent
        # A child that dies between answers is noticed at once, not by the next resident.
        threading.Thread(
            target=self._watch, args=(process, parent), name="va-model-watch", daemon=True
        ).start()

    def _watch(self, process: Any, conn: multiprocessing.connection.Connection) -> None:
        multiprocessing.connection.wait([process.sentinel])
        self._lost(conn, "died")  # nothing to do when it was stopped on purpose or already handled

    def prime(self, messages: list[Message]) -> None:
        """Evaluate a system prompt now (and again in every new child)."""
        with self._state:
            if messages not in self._prompts:
                self._prompts = [*self._prompts, messages][-REMEMBERED_PROMPTS:]
        with self._turns.turn():
            conn = self._connection()
            self._send(conn, ("prime", messages))
            self._finish(conn, self._receive(conn, time.monotonic() + self.start_timeout_s))

    def stream(self, messages: list[Message], max_tokens: int, deadline: float) -> Iterator[str]:
        with self._turns.turn(deadline):
            conn = self._connection()
            self._send(conn, ("stream", messages, max_tokens, max(0.0, deadline - time.monotonic())))
            finished = False
            try:
                while True:
                    message = self._receive(conn, deadline)
                    if message[0] == "piece":
                        yield str(message[1])
                        continue
                    finished = True
                    self._finish(conn, message)
                    return
            finally:
                if not finished:
                    self._cancel(conn)

    def _send(self, conn: multiprocessing.connection.Connection, request: tuple[Any, ...]) -> None:
        try:
            conn.send(request)
        except (EOFError, OSError):  # it died since the last answer, before its watcher said so
            self._lost(conn, "died")
            raise LLMCrashed("model process died before answering") from None

    def _connection(self) -> multiprocessing.connection.Connection:
        with self._state:
            if self._conn is None:
                raise LLMCrashed("model process is being restarted")
            return self._conn

    def _receive(self, conn: multiprocessing.connection.Connection, deadline: float) -> tuple[Any, ...]:
        while True:
            try:
                if conn.poll(max(0.0, min(_POLL_S, deadline - time.monotonic()))):
                    return tuple(conn.recv())
            except (EOFError, OSError, TypeError):
                # TypeError: the watcher closed the pipe between poll and recv (its handle is None)
                self._lost(conn, "died")
                raise LLMCrashed("model process died while answering") from None
            if not self._alive(conn):
                self._lost(conn, "died")
                raise LLMCrashed("model process died while answering")
            if time.monotonic() >= deadline:
                raise LLMTimeout("local model too slow")

    def _finish(self, conn: multiprocessing.connection.Connection, message: tuple[Any, ...]) -> None:
        if message[0] == "error":
            kind, text = message[1], str(message[2])
            raise {"LLMTimeout": LLMTimeout, "LLMBusy": LLMBusy, "LLMCrashed": LLMCrashed}.get(
                kind, LLMError
            )(text)
        with self._state:
            if self._conn is conn:
                self.crashes = 0

    def _cancel(self, conn: multiprocessing.connection.Connection) -> None:
        """Ask the child to stop writing and wait for it to say it has; kill it when it does not."""
        if not self._alive(conn):
            return
        try:
            conn.send(("cancel",))
            deadline = time.monotonic() + CANCEL_GRACE_S
            while conn.poll(max(0.0, deadline - time.monotonic())):
                if conn.recv()[0] != "piece":
                    return
        except (EOFError, OSError, TypeError):  # died, or its pipe closed by the watcher meanwhile
            pass
        self._lost(conn, "hung")

    def _alive(self, conn: multiprocessing.connection.Connection) -> bool:
        with self._state:
            return self._conn is conn and self._process is not None and self._process.is_alive()

    def _lost(self, conn: multiprocessing.connection.Connection, how: str) -> None:
        """The child died or hung: log it once, stop it, and start a new one after the back-off."""
        with self._state:
            if self._conn is not conn or self._process is None:
                handled = True  # by another thread (the watcher), perhaps still recording it
            else:
                handled = False
                process, self._process, self._conn = self._process, None, None
                delay = self.backoff_s[min(self.crashes, len(self.backoff_s) - 1)]
                self.crashes += 1
                self._recorded.clear()
        if handled:
            self._recorded.wait(5)
            return
        try:
            if process.is_alive():
                process.kill()
            process.join(2)
            conn.close()
            self.last_problem = f"{how} ({_exit(process.exitcode)})"
        finally:
            self._recorded.set()
        log.error(
            "answer.model_crashed",
            how=how,
            exit=_exit(process.exitcode),
            restart_in_s=delay,
            crashes_in_a_row=self.crashes,
        )
        self._restart_later(delay)

    def _restart_later(self, delay: float) -> None:
        with self._state:
            if self._restarting or self._closed:
                return
            self._restarting = True
        timer = threading.Timer(delay, self._restart)
        timer.daemon = True
        timer.start()

    def _restart(self) -> None:
        if self._closed:
            return
        try:
            self._start()
        except LLMError as error:
            with self._state:
                self._restarting = False
                delay = self.backoff_s[min(self.crashes, len(self.backoff_s) - 1)]
                self.crashes += 1
            log.error("answer.model_restart_failed", error=str(error), restart_in_s=delay)
            self._restart_later(delay)
            return
        with self._state:
            self._restarting = False
            self.restarts += 1
            prompts = list(self._prompts)
        if self._closed:
            self.close()
            return
        log.info("answer.model_restarted", restarts=self.restarts)
        for messages in prompts:
            try:
                self.prime(messages)
            except LLMError as error:
                log.warning("answer.warm_up_failed", error=str(error))
                return

    def close(self) -> None:
        """Stop the child (at shutdown; tests)."""
        with self._state:
            self._closed = True
            process, conn, self._process, self._conn = self._process, self._conn, None, None
        if conn is not None:
            conn.close()  # the child's recv ends: it returns
        if process is not None:
            process.join(2)
            if process.is_alive():
                process.kill()
                process.join(2)


def local_model(settings: Settings) -> ProcessChatModel:
    """The local backend's model, in its own process: ``LLMError`` when it cannot be loaded."""
    from virtuele_assistent.answering.local_model import default_model_path

    path = settings.local_model_path or default_model_path()
    if not path.is_file():  # said at once, without starting a process
        raise LLMError(f"model file not found: {path} (run: va models install-local)")
    return ProcessChatModel(
        settings.local_model_factory, (path, settings.llm_threads), queue_wait_s=settings.llm_queue_wait_s
    )


@dataclass(frozen=True)
class ModelCheck:
    """How a test answer went: whether the model works on this machine."""

    ok: bool
    seconds: float
    text: str = ""
    problem: str = ""


def check_model(model: ProcessChatModel, timeout_s: float = CHECK_TIMEOUT_S) -> ModelCheck:
    """One short generation in the model's process. A build for instructions this CPU lacks dies
    here (SIGILL), not on a resident's question."""
    started = time.monotonic()
    try:
        text = complete(model, CHECK_MESSAGES, CHECK_TOKENS, timeout_s)
    except LLMError as error:
        problem = model.last_problem if isinstance(error, LLMCrashed) and model.last_problem else str(error)
        return ModelCheck(False, time.monotonic() - started, problem=problem)
    if not text.strip():
        return ModelCheck(False, time.monotonic() - started, problem="the test answer was empty")
    return ModelCheck(True, time.monotonic() - started, text.strip())


def _exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"
