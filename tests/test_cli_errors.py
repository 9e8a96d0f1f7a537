"""A wrong setting, slug or port stops a command with one line that says what is wrong and how to
write it, and a non-zero exit; no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from virtuele_assistent.cli import app
from virtuele_assistent.settings import SettingsError, load_settings
from virtuele_assistent.tenants.schemas import suggested_slug

RUNNER = CliRunner()


@pytest.fixture
def data(cli_env: Path) -> Path:
    return cli_env


def test_a_list_setting_that_is_not_json_names_the_setting_and_the_form(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VA_CRAWL_ALLOW_HOSTS", "127.0.0.1, intranet.gemeente.nl")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value) == (
        "Invalid setting VA_CRAWL_ALLOW_HOSTS: '127.0.0.1, intranet.gemeente.nl' is not JSON; write a list "
        'as JSON, e.g. VA_CRAWL_ALLOW_HOSTS=\'["127.0.0.1", "intranet.gemeente.nl"]\''
    )
    result = RUNNER.invoke(app, ["tenants", "list"])
    assert result.exit_code == 2
    assert result.output.strip() == str(raised.value)  # one line, brackets and all


def test_a_slug_is_explained_in_words_with_a_suggestion(data: Path) -> None:
    result = RUNNER.invoke(app, ["tenants", "create", "Den Bosch", "Gemeente 's-Hertogenbosch"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "lowercase letters, digits and hyphens" in result.output and "'den-bosch'" in result.output
    assert suggested_slug("Súdwest-Fryslân") == "sudwest-fryslan"
    assert suggested_slug("--") == "gemeente"


def test_a_port_out_of_range_is_refused(data: Path) -> None:
    result = RUNNER.invoke(app, ["serve", "--port", "99999"])
    assert result.exit_code == 2 and "--port" in result.output


def test_an_unsupported_file_is_refused_with_its_type(data: Path) -> None:
    assert RUNNER.invoke(app, ["tenants", "create", "assen", "Gemeente Assen"]).exit_code == 0
    photo = data / "stadhuis.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0")
    result = RUNNER.invoke(app, ["ingest", "assen", str(photo)])
    assert result.exit_code == 1
    assert "bestandstype .jpg wordt niet ondersteund (HTML, Markdown, PDF, DOCX)" in result.output
    assert "Nothing could be indexed" in result.output


def test_asking_a_tenant_with_nothing_indexed_says_how_to_index(data: Path) -> None:
    assert RUNNER.invoke(app, ["tenants", "create", "assen", "Gemeente Assen"]).exit_code == 0
    result = RUNNER.invoke(app, ["ask", "assen", "Wat kost een paspoort?"])
    assert result.exit_code == 1
    assert "Nothing is indexed for assen yet" in result.output and "va crawl assen" in result.output
