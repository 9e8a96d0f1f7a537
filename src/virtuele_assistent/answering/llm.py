"""Chat models behind one small interface: any OpenAI-compatible API by URL, or a local GGUF model.

``ChatModel.stream(messages, max_tokens, deadline)`` yields text pieces and raises ``LLMError`` on any
failure, including passing the deadline; the answer pipeline then serves the extractive answer.
``OpenAIChatModel.astream`` does the same on the event loop: a server answering many residents at
once then needs no thread per streaming answer.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import ctypes
import json
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import httpx
import numpy as np

from virtuele_assistent.answering.local_decoding import DraftingDecoder

Message = dict[str, str]
# Idle connections an async client keeps open to the chat API (many answers stream at once).
ASYNC_KEEPALIVE = 1000


class LLMError(RuntimeError):
    """The model failed, answered nonsense, or was too slow."""


class LLMTimeout(LLMError):
    pass


class LLMBusy(LLMError):
    """The model is writing another resident's answer and did not come free in time."""


class LLMCrashed(LLMError):
    """The model's process died or hung while answering, or is being restarted (``model_process``)."""


class OneAtATime:
    """A model that writes one answer at a time: the next waits at most ``wait_s`` (and never past its
    deadline), then gets ``LLMBusy``, so a resident in a rush hour gets the extractive answer at once
    instead of waiting for the whole queue."""

    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def turn(self, deadline: float | None = None) -> Iterator[None]:
        """Hold the model; without a deadline (the warm-up), wait as long as it takes."""
        wait = -1.0 if deadline is None else max(0.0, min(self.wait_s, deadline - time.monotonic()))
        if not self._lock.acquire(timeout=wait):
            raise LLMBusy("local model busy with another answer")
        try:
            yield
        finally:
            self._lock.release()


class ChatModel(Protocol):
    name: str

    def stream(self, messages: list[Message], max_tokens: int, deadline: float) -> Iterator[str]: ...


def complete(model: ChatModel, messages: list[Message], max_tokens: int, timeout_s: float) -> str:
    return "".join(model.stream(messages, max_tokens, time.monotonic() + timeout_s))


class OpenAIChatModel:
    """vLLM, Ollama, Azure OpenAI, Mistral, llama_cpp.server, ...: POST {base_url}/chat/completions."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        retries: int = 1,
        connect_timeout_s: float = 3.0,
    ) -> None:
        self.name = f"openai:{model}"
        self.model = model
        self.retries = retries
        self.connect_timeout_s = connect_timeout_s
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(30.0, connect=connect_timeout_s),
        )

    def _body(self, messages: list[Message], max_tokens: int) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "stream": True,
        }

    def stream(self, messages: list[Message], max_tokens: int, deadline: float) -> Iterator[str]:
        body = self._body(messages, max_tokens)
        attempt = 0
        while True:
            started_output = False
            try:
                for piece in self._stream_once(body, deadline):
                    started_output = True
                    yield piece
                return
            except LLMTimeout:
                raise
            except LLMError:
                # Retry only what failed before any output, and only while time is left.
                attempt += 1
                if not _retry(started_output, attempt, self.retries, deadline):
                    raise
                time.sleep(_backoff_s(attempt))

    def _stream_once(self, body: dict[str, Any], deadline: float) -> Iterator[str]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LLMTimeout("no time left")
        timeout = httpx.Timeout(remaining, connect=min(remaining, self.connect_timeout_s))
        events = EventStream()
        try:
            with self._client.stream("POST", "/chat/completions", json=body, timeout=timeout) as response:
                if response.status_code >= 400:
                    response.read()
                    raise LLMError(f"chat API answered {response.status_code}")
                for chunk in response.iter_bytes():
                    if time.monotonic() > deadline:
                        raise LLMTimeout("chat API too slow")
                    yield from events.feed(chunk)
                    if events.done:
                        return
        except httpx.TimeoutException as error:
            raise LLMTimeout(f"chat API too slow: {error}") from None
        except httpx.HTTPError as error:
            raise LLMError(f"chat API unreachable: {error}") from None

    async def astream(self, messages: list[Message], max_tokens: int, deadline: float) -> AsyncIterator[str]:
        """``stream`` on the event loop: the same request, retries, deadline and errors."""
        body = self._body(messages, max_tokens)
        attempt = 0
        while True:
            started_output = False
            try:
                async for piece in self._astream_once(body, deadline):
                    started_output = True
                    yield piece
                return
            except LLMTimeout:
                raise
            except LLMError:
                attempt += 1
                if not _retry(started_output, attempt, self.retries, deadline):
                    raise
                await asyncio.sleep(_backoff_s(attempt))

    def _async_client(self) -> httpx.AsyncClient:
        # One client (and connection pool) per event loop: an async pool cannot be shared across loops.
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = httpx.AsyncClient(
                base_url=self._client.base_url,
                headers=self._client.headers,
                timeout=self._client.timeout,
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=ASYNC_KEEPALIVE),
            )
            self._async_clients[loop] = client
        return client

    async def _astream_once(self, body: dict[str, Any], deadline: float) -> AsyncIterator[str]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LLMTimeout("no time left")
        timeout = httpx.Timeout(remaining, connect=min(remaining, self.connect_timeout_s))
        # The deadline bounds each wait for the API, never the consumer's work between pieces:
        # a timeout left open across a ``yield`` would cancel whatever the consumer awaits.
        until = asyncio.get_running_loop().time() + remaining
        events = EventStream()
        client = self._async_client()
        try:
            async with contextlib.AsyncExitStack() as stack:
                async with asyncio.timeout_at(until):
                    response = await stack.enter_async_context(
                        client.stream("POST", "/chat/completions", json=body, timeout=timeout)
                    )
                    if response.status_code >= 400:
                        await response.aread()
                        raise LLMError(f"chat API answered {response.status_code}")
                chunks = response.aiter_bytes()
                while True:
                    async with asyncio.timeout_at(until):
                        chunk = await anext(chunks, None)
                    if chunk is None:
                        return
                    for piece in events.feed(chunk):
                        yield piece
                    if events.done:
                        return
        except TimeoutError:
            raise LLMTimeout("chat API too slow") from None
        except httpx.TimeoutException as error:
            raise LLMTimeout(f"chat API too slow: {error}") from None
        except httpx.HTTPError as error:
            raise LLMError(f"chat API unreachable: {error}") from None

    async def aclose(self) -> None:
        for client in list(self._async_clients.values()):
            await client.aclose()
        self._async_clients.clear()


def _retry(started_output: bool, attempt: int, retries: int, deadline: float) -> bool:
    return not started_output and attempt <= retries and time.monotonic() + 0.5 <= deadline


def _backoff_s(attempt: int) -> float:
    return min(0.2 * attempt, 1.0)


class EventStream:
    """The text pieces in an OpenAI-style server-sent event stream, fed as raw bytes arrive.

    Only ``data:`` lines count; ``data: [DONE]`` ends the stream (``done``). Lines are split on
    bytes, so a chunk may end anywhere, even inside a UTF-8 character.
    """

    def __init__(self) -> None:
        self._rest = b""
        self.done = False

    def feed(self, chunk: bytes) -> list[str]:
        pieces: list[str] = []
        if self.done:
            return pieces
        lines = (self._rest + chunk).split(b"\n")
        self._rest = lines.pop()
        for raw in lines:
            if not raw.startswith(b"data:"):
                continue
            data = raw[5:].strip()
            if data == b"[DONE]":
                self.done = True
                break
            try:
                choice = json.loads(data)["choices"][0]
                piece = (choice.get("delta") or {}).get("content") or ""
            except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
                raise LLMError(f"chat API sent an unreadable event: {error}") from None
            if piece:
                pieces.append(str(piece))
        return pieces


class LocalChatModel:
    """A GGUF model in this process through llama-cpp-python (the ``local-llm`` extra).

    Decoding is greedy, with drafts copied from the prompt where they pay (``local_decoding``);
    llama-cpp-python's own prompt-lookup option keeps the logits of every position (a context ×
    vocabulary array, 1.2 GB here) and drafts whether or not that is faster on the machine.
    """

    def __init__(
        self, model_path: Path, threads: int = 2, context: int = 2048, queue_wait_s: float = 2.0
    ) -> None:
        try:
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as error:  # pragma: no cover - depends on the optional extra
            raise LLMError("llama-cpp-python is not installed: pip install '.[local-llm]'") from error
        if not Path(model_path).is_file():
            raise LLMError(f"model file not found: {model_path} (run: va models install-local)")
        self.name = f"local:{Path(model_path).name}"
        self._llama = Llama(model_path=str(model_path), n_ctx=context, n_threads=threads, verbose=False)
        template = self._llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise LLMError(f"{Path(model_path).name} has no chat template")
        end_text = self._llama._model.token_get_text(self._llama.token_eos())
        self._format = Jinja2ChatFormatter(template=template, eos_token=end_text, bos_token="")
        self._decoder = DraftingDecoder(_LlamaEngine(self._llama))
        self._turns = OneAtATime(queue_wait_s)  # one generation at a time per loaded model

    def _tokens(self, messages: list[Message]) -> list[int]:
        prompt = self._format(messages=messages).prompt  # type: ignore[arg-type]
        tokens = self._llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        return list(tokens)

    def prime(self, messages: list[Message]) -> None:
        """Evaluate a prompt's fixed beginning now; later prompts that start with it reuse it. Time the
        forward passes too, so the first answer already drafts only as far as pays on this machine."""
        with self._turns.turn():
            try:
                self._remember_system_prompt(messages)
                if not self._decoder.pass_ms:
                    self._decoder.calibrate(self._tokens(messages))
            except Exception as error:  # llama.cpp raises plain exceptions
                raise LLMError(f"local model failed: {error}") from error

    def _remember_system_prompt(self, messages: list[Message]) -> None:
        """Keep a tenant's system prompt evaluated, so that the next question after another prompt
        (a follow-up's rewrite, another tenant) does not read it again."""
        if messages and messages[0]["role"] == "system":
            prefix = self._tokens([messages[0], {"role": "user", "content": ""}])
            if not self._decoder.remembers(prefix):
                self._decoder.prefill(prefix)

    def stream(self, messages: list[Message], max_tokens: int, deadline: float) -> Iterator[str]:
        with self._turns.turn(deadline):
            try:
                self._remember_system_prompt(messages)
                prompt = self._tokens(messages)
                if len(prompt) + max_tokens > self._llama.n_ctx():
                    raise LLMError(f"prompt of {len(prompt)} tokens too long for the model's context")
                text = codecs.getincrementaldecoder("utf-8")("replace")  # a character may span tokens
                tokens = self._decoder.generate(prompt, max_tokens)
                try:
                    for token in tokens:
                        if time.monotonic() > deadline:
                            raise LLMTimeout("local model too slow")
                        piece = text.decode(self._llama.detokenize([token]))
                        if piece:
                            yield piece
                finally:
                    tokens.close()  # the decoder keeps the evaluated prompt: still its turn
            except LLMError:
                raise
            except Exception as error:  # llama.cpp raises plain exceptions
                raise LLMError(f"local model failed: {error}") from error


class _LlamaEngine:
    """llama.cpp's context as a ``local_decoding.Engine``: one batch per forward pass, greedy picks."""

    def __init__(self, llama: Any) -> None:
        import llama_cpp

        self._api = llama_cpp
        self._ctx = llama._ctx.ctx
        self._vocab = llama._model.vocab
        self._n_vocab = llama.n_vocab()
        self._n_batch = llama.n_batch
        self._batch = llama._batch.batch  # sized n_batch; only this engine decodes with the context

    def forward(self, tokens: Sequence[int], start: int, every_position: bool) -> list[int]:
        picks: list[int] = []
        for offset in range(0, len(tokens), self._n_batch):
            part = tokens[offset : offset + self._n_batch]
            last_part = offset + self._n_batch >= len(tokens)
            batch = self._batch
            batch.n_tokens = len(part)
            for i, token in enumerate(part):
                batch.token[i] = token
                batch.pos[i] = start + offset + i
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = 0
                batch.logits[i] = every_position or (last_part and i == len(part) - 1)
            code = self._api.llama_decode(self._ctx, batch)
            if code != 0:
                raise LLMError(f"llama_decode returned {code}")
            wanted = range(len(part)) if every_position else ([len(part) - 1] if last_part else [])
            picks.extend(self._greedy(i) for i in wanted)
        return picks

    def _greedy(self, index: int) -> int:
        logits = self._api.llama_get_logits_ith(self._ctx, index)
        return int(np.ctypeslib.as_array(logits, shape=(self._n_vocab,)).argmax())

    def forget_from(self, position: int) -> None:
        memory = self._api.llama_get_memory(self._ctx)
        self._api.llama_memory_seq_rm(memory, -1, position, -1)

    def is_end(self, token: int) -> bool:
        return bool(self._api.llama_vocab_is_eog(self._vocab, token))

    def snapshot(self) -> bytes:
        size = self._api.llama_state_seq_get_size(self._ctx, 0)
        buffer = (ctypes.c_uint8 * size)()
        written = self._api.llama_state_seq_get_data(self._ctx, buffer, size, 0)
        return ctypes.string_at(buffer, written)  # slicing the ctypes array would build a list of ints

    def restore(self, state: bytes) -> None:
        self.forget_from(0)
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if self._api.llama_state_seq_set_data(self._ctx, buffer, len(state), 0) == 0:
            raise LLMError("could not restore the model's cache")
