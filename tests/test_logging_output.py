"""Logs people can use: a `va` command's own output is not buried in log lines, readable lines on a
terminal and JSON otherwise, a log file in JSON without colour codes."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from tests.conftest import make_settings
from virtuele_assistent.observability.logging import configure_logging

ESC = "\x1b["


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if handler not in saved[0]:
            handler.close()
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_a_command_prints_its_own_output_and_no_log_lines(tmp_path: Path) -> None:
    env = {**os.environ, "VA_DATA_DIR": str(tmp_path / "data")}
    for name in ("VA_LOG_LEVEL", "VA_LOG_JSON", "VA_DATABASE_URL"):
        env.pop(name, None)
    run = subprocess.run(
        [sys.executable, "-m", "virtuele_assistent.cli", "tenants", "create", "dalfsen", "Gemeente Dalfsen"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and run.stdout.strip() == "Created tenant dalfsen (Gemeente Dalfsen).", run
    assert run.stderr == ""  # the database migrations are not news to the person typing
    loud = subprocess.run(
        [sys.executable, "-m", "virtuele_assistent.cli", "tenants", "list"],
        env={**env, "VA_LOG_LEVEL": "INFO"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loud.returncode == 0 and '"logger": "alembic' in loud.stderr  # asked for: JSON, not a terminal


def test_readable_or_json_and_a_log_file_without_colour_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    log_file = tmp_path / "logs" / "va.log"
    settings = make_settings(tmp_path, log_json=None, log_file=log_file)
    configure_logging(settings)  # stderr is no terminal here: JSON
    structlog.get_logger("va.test").info("crawl.started", tenant="dalfsen")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert json.loads(line)["event"] == "crawl.started"

    configure_logging(settings.model_copy(update={"log_json": False}))
    structlog.get_logger("va.test").warning("crawl.slow", tenant="dalfsen", pages=3)
    readable = capsys.readouterr().err
    assert "crawl.slow" in readable and "tenant=dalfsen" in readable and ESC not in readable
    assert not readable.lstrip().startswith("{")

    logging.getLogger().handlers[-1].flush()
    written = log_file.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["event"] for line in written] == ["crawl.started", "crawl.slow"]
    assert ESC not in "".join(written)
