"""`va users create`, `va conversations purge` and `va eval redteam` on a real embedded data folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.test_redteam import SUITE
from virtuele_assistent.cli import app
from virtuele_assistent.settings import get_settings


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VA_LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_users_purge_and_redteam_commands(data_dir: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(app, ["tenants", "create", "meppel", "Gemeente Meppel", "--phone", "14 0522"])
    assert created.exit_code == 0, created.output
    user = runner.invoke(
        app,
        ["users", "create", "anna@meppel.nl", "--name", "Anna", "--role", "kcc@meppel", "--password-stdin"],
        input="een-lang-wachtwoord\n",
    )
    assert user.exit_code == 0 and "anna@meppel.nl" in user.output, user.output
    again = runner.invoke(
        app, ["users", "create", "anna@meppel.nl", "--password-stdin"], input="x" * 12 + "\n"
    )
    assert again.exit_code == 1 and "already exists" in again.output
    short = runner.invoke(app, ["users", "create", "b@meppel.nl", "--password-stdin"], input="kort\n")
    assert short.exit_code == 2
    purge = runner.invoke(app, ["conversations", "purge", "--dry-run"])
    assert purge.exit_code == 0 and "meppel" in purge.output
    redteam = runner.invoke(app, ["eval", "redteam", "--prompts", str(SUITE / "prompt_injection.jsonl")])
    assert redteam.exit_code == 0, redteam.output
    assert "prompt_injection" in redteam.output and "pass rate" in redteam.output
