"""Signing keys: none published, required in production, generated once when embedded, rotatable."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import httpx
import jwt
import pytest

from tests.conftest import LiveServer
from virtuele_assistent.auth.keys import KEY_FILE, signing_keys
from virtuele_assistent.auth.tokens import TokenError, TokenService
from virtuele_assistent.auth.users import create_user
from virtuele_assistent.services import Services
from virtuele_assistent.settings import PUBLISHED_SECRETS, SettingsError, load_settings

SERVERS = {
    "database_url": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "qdrant_url": "http://127.0.0.1:6333",
    "redis_url": "redis://127.0.0.1:6379/0",
}


def test_production_refuses_to_start_without_a_signing_key() -> None:
    with pytest.raises(SettingsError, match="VA_JWT_SECRET"):
        load_settings(profile="production", **SERVERS)
    assert load_settings(profile="production", jwt_secret="k" * 40, **SERVERS).jwt_secret is not None


@pytest.mark.parametrize("key", [*sorted(PUBLISHED_SECRETS), "te-kort"])
def test_published_or_short_keys_are_refused(key: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="VA_JWT_SECRET"):
        load_settings(data_dir=tmp_path, jwt_secret=key)
    with pytest.raises(SettingsError, match="VA_JWT_SECRET"):
        load_settings(data_dir=tmp_path, jwt_secret="n" * 40, jwt_previous_secrets=[key])


def test_embedded_key_is_generated_once_private_and_kept(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    first = signing_keys(settings).current
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32 and first not in PUBLISHED_SECRETS
    assert signing_keys(load_settings(data_dir=tmp_path / "data")).current == first
    assert signing_keys(load_settings(data_dir=tmp_path / "ander")).current != first


def test_rotation_accepts_the_previous_key_and_signs_with_the_new() -> None:
    old, new = "oud-" + "o" * 40, "nieuw-" + "n" * 40
    before = TokenService(old, 600, 600).issue_session("meppel", "a" * 32)
    rotated = TokenService(new, 600, 600, previous=(old,))
    assert rotated.verify_session(before, "meppel").conversation_id == "a" * 32
    after = rotated.issue_session("meppel", "b" * 32)
    assert TokenService(new, 600, 600).verify_session(after, "meppel").conversation_id == "b" * 32
    with pytest.raises(TokenError) as failure:
        TokenService(new, 600, 600).verify_session(before, "meppel")
    assert failure.value.reason == "bad_signature"


def test_staff_token_forged_with_an_old_default_key_is_refused(
    live_server: LiveServer, services: Services
) -> None:
    user = create_user(services.db, "beheer@meppel.nl", "een-lang-wachtwoord-123", roles=[("platform", None)])
    now = int(time.time())
    claims = {"iss": "virtuele-assistent", "aud": "va:staff", "sub": str(user.id), "typ": "staff"}
    claims |= {"iat": now, "nbf": now, "exp": now + 600, "jti": "vervalst"}
    for key in PUBLISHED_SECRETS:
        forged = jwt.encode(claims, key, algorithm="HS256")
        me = httpx.get(f"{live_server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
        assert me.status_code == 401, me.text
    genuine = services.tokens.issue_staff(user.id)
    me = httpx.get(f"{live_server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {genuine}"})
    assert me.status_code == 200 and me.json()["email"] == "beheer@meppel.nl"
