"""Chat models behind one small interface: any OpenAI-compatible API by URL, or a local GGUF model.

``ChatModel.stream(messages, max_tokens, deadline)`` yields text pieces and raises ``LLMError`` on any
failure, including passing the deadline; the answer pipeline then serves the extractive answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import httpx

Message = dict[str, str]


class LLMError(RuntimeError):
    """The model failed, answered nonsense, or was too slow."""


class LLMTimeout(LLMError):
    pass


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
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(30.0, connect=connect_timeout_s),
        )

    def stream(self, messages: list[Message], max_tokens: int, deadline: float) -> Iterator[str]:
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "stream": True,
        }
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
                if started_output or attempt > self.retries or time.monotonic() + 0.5 > deadline:
                    raise
                time.sleep(min(0.2 * attempt, 1.0))

    def _stream_once(self, body: dict, deadline: float) -> Iterator[str]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LLMTimeout("no time left")
        timeout = httpx.Timeout(remaining, connect=min(remaining, 3.0))
        try:
            with self._client.stream("POST", "/chat/completions", json=body, timeout=timeout) as response:
                if response.status_code >= 400:
                    response.read()
                    raise LLMError(f"chat API answered {response.status_code}")
                for line in response.iter_lines():
                    if time.monotonic() > deadline:
                        raise LLMTimeout("chat API too slow")
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    try:
                        choice = json.loads(data)["choices"][0]
                    except (ValueError, KeyError, IndexError, TypeError) as error:
                        raise LLMError(f"chat API sent an unreadable event: {error}") from None
                    piece = (choice.get("delta") or {}).get("content") or ""
                    if piece:
                        yield piece
        except httpx.TimeoutException as error:
            raise LLMTimeout(f"chat API too slow: {error}") from None
        except httpx.HTTPError as error:
            raise LLMError(f"chat API unreachable: {error}") from None


class LocalChatModel:
    """A GGUF model in this process through llama-cpp-python (the ``local-llm`` extra)."""

    def __init__(self, model_path: Path, threads: int = 2, context: int = 2048) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as error:  # pragma: no cover - depends on the optional extra
            raise LLMError("llama-cpp-python is not installed: pip install '.[local-llm]'") from error
        if not Path(model_path).is_file():
            raise LLMError(f"model file not found: {model_path} (run: va models install-local)")
        self.name = f"local:{Path(model_path).name}"
        self._llama = Llama(model_path=str(model_path), n_ctx=context, n_threads=threads, verbose=False)
        self._lock = threading.Lock()  # one generation at a time per loaded model

    def prime(self, messages: list[Message]) -> None:
        """Evaluate a prompt's fixed beginning now; later prompts that start with it reuse it."""
        with self._lock:
            try:
                self._llama.create_chat_completion(
                    messages=[*messages, {"role": "user", "content": ""}],  # type: ignore[arg-type,list-item]
                    max_tokens=1,
                    temperature=0.0,
                )
            except Exception as error:  # llama.cpp raises plain exceptions
                raise LLMError(f"local model failed: {error}") from error

    def stream(self, messages: list[Message], max_tokens: int, deadline: float) -> Iterator[str]:
        if not self._lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise LLMTimeout("local model busy")
        try:
            chunks = self._llama.create_chat_completion(
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens,
                temperature=0.0,
                stream=True,
            )
            for chunk in chunks:
                if time.monotonic() > deadline:
                    raise LLMTimeout("local model too slow")
                piece = chunk["choices"][0]["delta"].get("content") or ""  # type: ignore[index,union-attr]
                if piece:
                    yield str(piece)
        except LLMError:
            raise
        except Exception as error:  # llama.cpp raises plain exceptions
            raise LLMError(f"local model failed: {error}") from error
        finally:
            self._lock.release()
