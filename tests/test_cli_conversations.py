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


def test_conversations_are_listed_by_date_and_exported_with_zoned_times(cli_env: Path) -> None:
    import json
    from datetime import UTC, datetime, timedelta

    from tests.test_ingest_and_search import write_site

    runner = CliRunner()
    assert runner.invoke(app, ["tenants", "create", "meppel", "Gemeente Meppel"]).exit_code == 0
    site = write_site(
        cli_env / "site", "Meppel", {"paspoort.html": ("Paspoort", "<p>Een paspoort kost € 84,50.</p>")}
    )
    assert (
        runner.invoke(app, ["ingest", "meppel", str(site), "--base-url", "https://www.meppel.nl/"]).exit_code
        == 0
    )
    assert runner.invoke(app, ["ask", "meppel", "Wat kost een paspoort?"]).exit_code == 0

    listed = runner.invoke(app, ["conversations", "list", "meppel", "--json"])
    assert listed.exit_code == 0, listed.output
    [conversation] = json.loads(listed.output)
    assert conversation["messages"] == 2 and conversation["channel"] == "cli"
    assert conversation["created_at"].endswith("+00:00")
    table = runner.invoke(app, ["conversations", "list", "meppel"], env={"COLUMNS": "200"})
    assert conversation["id"] in table.output and "va conversations export meppel ID" in table.output
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    later = runner.invoke(app, ["conversations", "list", "meppel", "--since", tomorrow])
    assert later.exit_code == 0 and "No conversations" in later.output
    earlier = runner.invoke(app, ["conversations", "list", "meppel", "--until", tomorrow, "--json"])
    assert [c["id"] for c in json.loads(earlier.output)] == [conversation["id"]]

    exported = runner.invoke(app, ["conversations", "export", "meppel", conversation["id"]])
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.output)
    moments = [data["conversation"]["created_at"], data["conversation"]["last_activity_at"]]
    moments += [m["created_at"] for m in data["messages"]]
    assert all(moment.endswith("+00:00") for moment in moments), moments
    missing = runner.invoke(app, ["conversations", "export", "meppel", "0" * 32])
    assert missing.exit_code == 1 and "va conversations list meppel" in missing.output
    unknown = runner.invoke(app, ["conversations", "list", "nergens"])
    assert unknown.exit_code == 1 and "does not exist" in unknown.output
