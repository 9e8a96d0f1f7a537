"""Answer latency on the demo content (embedded profile): per stage, platform overhead, first token.

    .venv/bin/python benchmarks/answer_latency.py [--rounds 3] [--backend extractive --backend local]

Indexes demo/site into a temporary folder and asks every demo question (answerable and out-of-scope)
once with the extractive backend, which embeds each page's sentences (reported as the cold overhead).
Then, per backend, after a restart of the services (the pages' unit vectors come from the database),
every question once (first time asked) and ``--rounds`` more times (asked before). Overhead is
everything except LLM token generation; time to first token is until the first streamed (verified)
piece.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from virtuele_assistent.answering.service import Answer
from virtuele_assistent.quality.evalset import index_sites, load_jsonl
from virtuele_assistent.services import Services
from virtuele_assistent.settings import load_settings
from virtuele_assistent.tenants.schemas import TenantProfile
from virtuele_assistent.tenants.service import get_profile

REPO = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))] if ordered else 0.0


def ask(services: Services, tenant: TenantProfile, question: str) -> tuple[float, Answer]:
    """The answer, and the milliseconds until its first streamed piece."""
    started = time.perf_counter()
    first = None
    final = None
    for item in services.answers.stream(tenant, question):
        if first is None:
            first = (time.perf_counter() - started) * 1000
        if isinstance(item, Answer):
            final = item
    assert final is not None and first is not None
    return first, final


def row(label: str, values: list[float]) -> str:
    p50, p95 = statistics.median(values), percentile(values, 0.95)
    return f"{label:<40}{p50:>10.1f}{p95:>10.1f}{max(values):>10.1f}"


def warm(services: Services, questions: list[str], label: str) -> None:
    """Ask every question once with the extractive backend: the first question on a page needs the
    vectors of that page's sentences (embedded once, then kept in memory and in the database)."""
    tenant = with_backend(get_profile(services.db, "voorbeeldstad"), "extractive")
    cold = [ask(services, tenant, question)[1].overhead_ms for question in questions]
    print(f"\n{label}: p50 {statistics.median(cold):.1f} ms, p95 {percentile(cold, 0.95):.1f} ms")


def with_backend(tenant: TenantProfile, backend: str) -> TenantProfile:
    return tenant.model_copy(
        update={"settings": tenant.settings.model_copy(update={"answer_backend": backend})}
    )


def run(services: Services, backend: str, questions: list[str], rounds: int) -> None:
    """Round 0 asks each question for the first time; later rounds ask them again, as other residents
    would (a local model may still hold the evaluated sources of a recent prompt)."""
    tenant = with_backend(get_profile(services.db, "voorbeeldstad"), backend)
    services.answers.warm_up([tenant])  # as the service does at start: load the model, read its prompt
    stages: dict[str, list[float]] = {}
    overhead: dict[bool, list[float]] = {False: [], True: []}  # by: asked before
    first_piece: dict[bool, list[float]] = {False: [], True: []}  # by: asked before
    first_answered: dict[bool, list[float]] = {False: [], True: []}  # declines come at once
    fallbacks = 0
    for round_number in range(rounds + 1):
        for question in questions:
            first, final = ask(services, tenant, question)
            for stage, value in final.timings_ms.items():
                stages.setdefault(stage, []).append(value)
            overhead[round_number > 0].append(final.overhead_ms)
            first_piece[round_number > 0].append(first)
            if not final.declined:
                first_answered[round_number > 0].append(first)
            fallbacks += bool(final.fallback)
    print(f"\nbackend {backend}: {len(questions)} questions, asked once and then {rounds} more times")
    print(f"{'stage':<40}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for stage, values in stages.items():
        print(row(stage, values))
    print(row("overhead (all but LLM generation)", overhead[False] + overhead[True]))
    for asked_before, label in ((False, "first time asked"), (True, "asked before")):
        if overhead[asked_before]:
            print(row(f"overhead, {label}", overhead[asked_before]))
        if first_piece[asked_before]:
            print(row(f"first streamed piece, {label}", first_piece[asked_before]))
        if first_answered[asked_before]:
            print(row("  of answers that were not declined", first_answered[asked_before]))
    if backend != "extractive":
        print(f"answers that fell back to extractive: {fallbacks}/{len(overhead[False] + overhead[True])}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", action="append", choices=["extractive", "openai", "local"])
    args = parser.parse_args()
    questions = [
        q["question"]
        for q in load_jsonl(REPO / "demo" / "questions.jsonl")
        + load_jsonl(REPO / "demo" / "out_of_scope.jsonl")
        if not q.get("follow_up_of")
    ]
    with tempfile.TemporaryDirectory(prefix="va-bench-") as data_dir:
        services = Services(load_settings(data_dir=Path(data_dir), log_level="WARNING"))
        from virtuele_assistent.observability.logging import configure_logging

        configure_logging(services.settings)
        started = time.perf_counter()
        index_sites(services, REPO / "demo" / "site", ["voorbeeldstad"])
        print(f"indexed the demo site in {time.perf_counter() - started:.1f} s")
        warm(services, questions, "overhead, first question on each page ever (its sentences embedded)")
        services.close()
        for backend in args.backend or ["extractive"]:
            # A restart before each backend: the questions are new to the process (not embedded yet),
            # and only what the database keeps (the pages' unit vectors) is known.
            services = Services(services.settings)
            run(services, backend, questions, args.rounds)
            services.close()


if __name__ == "__main__":
    main()
