"""Answer latency on the demo content (embedded profile): per stage, platform overhead, first token.

    .venv/bin/python benchmarks/answer_latency.py [--rounds 3] [--backend extractive --backend local]

Indexes demo/site into a temporary folder, asks every demo question (answerable and out-of-scope) once
to warm the caches (reported separately as "cold"), then ``--rounds`` more times. Overhead is everything
except LLM token generation; time to first token is until the first streamed (verified) piece.
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
from virtuele_assistent.tenants.service import get_profile

REPO = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))] if ordered else 0.0


def run(services: Services, backend: str, questions: list[str], rounds: int) -> None:
    tenant = get_profile(services.db, "voorbeeldstad")
    tenant = tenant.model_copy(update={"settings": {"answer_backend": backend}})
    stages: dict[str, list[float]] = {}
    overhead: list[float] = []
    first_piece: list[float] = []
    first_answered: list[float] = []  # declines come at once; these are the answers a model writes
    cold: list[float] = []
    fallbacks = 0
    for round_number in range(rounds + 1):
        for question in questions:
            started = time.perf_counter()
            first = None
            final = None
            for item in services.answers.stream(tenant, question):
                if first is None:
                    first = (time.perf_counter() - started) * 1000
                if isinstance(item, Answer):
                    final = item
            assert final is not None and first is not None
            timings = final.timings_ms
            if round_number == 0:
                cold.append(final.overhead_ms)
                continue
            for stage, value in timings.items():
                stages.setdefault(stage, []).append(value)
            overhead.append(final.overhead_ms)
            first_piece.append(first)
            if not final.declined:
                first_answered.append(first)
            fallbacks += bool(final.fallback)
    print(f"\nbackend {backend}: {len(questions)} questions x {rounds} rounds (after one warm-up round)")
    print(f"{'stage':<34}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for stage, values in stages.items():
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        print(f"{stage:<34}{p50:>10.1f}{p95:>10.1f}{max(values):>10.1f}")
    print(
        f"{'overhead (all but LLM generation)':<34}{statistics.median(overhead):>10.1f}"
        f"{percentile(overhead, 0.95):>10.1f}{max(overhead):>10.1f}"
    )
    print(
        f"{'time to first streamed piece':<34}{statistics.median(first_piece):>10.1f}"
        f"{percentile(first_piece, 0.95):>10.1f}{max(first_piece):>10.1f}"
    )
    if first_answered:
        print(
            f"{'  of answers that were not declined':<34}{statistics.median(first_answered):>10.1f}"
            f"{percentile(first_answered, 0.95):>10.1f}{max(first_answered):>10.1f}"
        )
    print(
        f"{'cold overhead (first round)':<34}{statistics.median(cold):>10.1f}{percentile(cold, 0.95):>10.1f}"
    )
    if backend != "extractive":
        print(f"answers that fell back to extractive: {fallbacks}/{len(first_piece)}")


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
        for backend in args.backend or ["extractive"]:
            run(services, backend, questions, args.rounds)
        services.close()


if __name__ == "__main__":
    main()
