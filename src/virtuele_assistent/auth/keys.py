"""Signing keys for tokens: configured in production, generated once for an embedded installation.

Production refuses to start without ``VA_JWT_SECRET`` (see ``Settings``). The embedded profile
needs no configuration: on first use a random key is written to ``data_dir/jwt_secret``, readable
by the owner only, and read back on every later start, so tokens survive a restart. Rotation:
put the new key in ``VA_JWT_SECRET`` and the old one in ``VA_JWT_PREVIOUS_SECRETS``; tokens signed
with either are accepted until the old ones have expired.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from virtuele_assistent.settings import MIN_SECRET_CHARS, Settings

KEY_FILE = "jwt_secret"


@dataclass(frozen=True)
class SigningKeys:
    current: str
    previous: tuple[str, ...] = ()


def signing_keys(settings: Settings) -> SigningKeys:
    previous = tuple(key.get_secret_value() for key in settings.jwt_previous_secrets)
    if settings.jwt_secret is not None:
        return SigningKeys(settings.jwt_secret.get_secret_value(), previous)
    return SigningKeys(_generated_key(settings.data_dir / KEY_FILE), previous)


def _generated_key(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) < MIN_SECRET_CHARS:
            message = f"{path} holds no usable signing key; delete it to generate a new one"
            raise RuntimeError(message) from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key
