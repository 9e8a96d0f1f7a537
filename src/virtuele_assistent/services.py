"""Wiring: builds the parts of the flow from Settings, once per process (API, CLI, worker)."""

from __future__ import annotations

from functools import cached_property

from virtuele_assistent.answering.service import AnswerService
from virtuele_assistent.auth.keys import signing_keys
from virtuele_assistent.auth.oidc import OidcClient
from virtuele_assistent.auth.signin import SignInGuard
from virtuele_assistent.auth.tokens import TokenService
from virtuele_assistent.conversations.fanout import LocalBroker, RedisBroker
from virtuele_assistent.conversations.ratelimit import RateLimiter
from virtuele_assistent.conversations.service import ChatService
from virtuele_assistent.index.analyzer import DutchAnalyzer
from virtuele_assistent.index.embedder import Embedder, make_embedder
from virtuele_assistent.index.store import VectorStore
from virtuele_assistent.ingest.pipeline import Indexer
from virtuele_assistent.retrieval import Retriever
from virtuele_assistent.settings import Settings
from virtuele_assistent.storage.db import Database


class Services:
    """Lazily built so that a command only opens what it uses (Qdrant local mode holds a lock)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def db(self) -> Database:
        return Database(self.settings)

    @cached_property
    def embedder(self) -> Embedder:
        return make_embedder(self.settings)

    @cached_property
    def analyzer(self) -> DutchAnalyzer:
        return DutchAnalyzer()

    @cached_property
    def store(self) -> VectorStore:
        return VectorStore.from_settings(self.settings, self.embedder.dim)

    @cached_property
    def indexer(self) -> Indexer:
        return Indexer(self.db, self.store, self.embedder, self.analyzer)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.store, self.embedder, self.analyzer, rerank=self.settings.rerank)

    @cached_property
    def answers(self) -> AnswerService:
        return AnswerService(self.retriever, self.embedder, self.settings, db=self.db)

    @cached_property
    def chat(self) -> ChatService:
        return ChatService(self.db, self.answers, self.settings, self.broker)

    @cached_property
    def tokens(self) -> TokenService:
        s = self.settings
        keys = signing_keys(s)
        return TokenService(keys.current, s.session_token_ttl_s, s.staff_token_ttl_s, keys.previous)

    @cached_property
    def limiter(self) -> RateLimiter:
        return RateLimiter(self.settings)

    @cached_property
    def oidc(self) -> OidcClient:
        """Signing in to the portal with the organisation's identity provider (when configured)."""
        return OidcClient(self.settings)

    @cached_property
    def sign_in(self) -> SignInGuard:
        return SignInGuard(self.settings, self.limiter)

    @cached_property
    def broker(self) -> LocalBroker:
        if self.settings.redis_url:
            return RedisBroker(self.settings.redis_url, self.settings.redis_prefix)
        return LocalBroker()

    def close(self) -> None:
        if "chat" in self.__dict__:
            self.chat.executor.shutdown(wait=False, cancel_futures=True)
        if "answers" in self.__dict__:
            self.answers.close()
        if "store" in self.__dict__:
            self.store.close()
        if "db" in self.__dict__:
            self.db.dispose()
