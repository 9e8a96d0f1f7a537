"""Answer evaluation: ask every question through the real pipeline and score what residents get.

Per backend: answer facts present (case- and whitespace-insensitive), questions fully answered,
answerable questions wrongly declined, out-of-scope and wrong-tenant questions declined, questions
about the resident's own file routed as such, leaked facts of another tenant, citation validity of
the answers given (a cited page is a gold page or contains a fact), invented
citations (cited URLs that were not among the retrieved passages), unverified numbers (numbers in an
answer that occur in none of its cited pages), Dutch questions answered in another language, median
answer length in words, median readability and latency per stage.

Every item is scored into the overall report, its tenant's report and, when groups are given (for
example the municipalities kept aside from tuning), its group's report, so that a figure that holds
only on the tuned municipalities shows.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from virtuele_assistent.answering.service import Answer, AnswerService
from virtuele_assistent.answering.text import normalise_for_match, numbers_in
from virtuele_assistent.answering.verify import CITATION
from virtuele_assistent.conversations.language import detect
from virtuele_assistent.quality.evalset import EvalIndex
from virtuele_assistent.sentences import sentences_of
from virtuele_assistent.tenants.schemas import TenantProfile


@dataclass
class AnswerReport:
    backend: str
    answerable: int = 0
    facts_total: int = 0
    facts_found: int = 0
    fully_answered: int = 0
    wrongly_declined: int = 0
    out_of_scope: int = 0
    out_of_scope_declined: int = 0
    wrong_tenant: int = 0
    wrong_tenant_declined: int = 0
    personal: int = 0  # questions about the resident's own file
    personal_routed: int = 0  # ... answered as such, not with page text as if it knew the file
    leaked: int = 0
    citations: int = 0
    valid_citations: int = 0
    invented_citations: int = 0
    unverified_numbers: int = 0
    dutch_asked: int = 0
    dutch_answered_otherwise: int = 0
    words: list[int] = field(default_factory=list)
    fallbacks: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    readability: list[float] = field(default_factory=list)
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: list[dict[str, Any]] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        """The report as numbers (shares from 0 to 1, None where nothing was counted), for JSON."""

        def share(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {
            "answer_facts_present": share(self.facts_found, self.facts_total),
            "fully_answered": share(self.fully_answered, self.answerable),
            "wrongly_declined": share(self.wrongly_declined, self.answerable),
            "out_of_scope_declined": share(self.out_of_scope_declined, self.out_of_scope),
            "wrong_tenant_declined": share(self.wrong_tenant_declined, self.wrong_tenant),
            "personal_cases_routed": share(self.personal_routed, self.personal),
            "leaking_answers": self.leaked,
            "citation_validity": share(self.valid_citations, self.citations),
            "invented_citations": self.invented_citations,
            "unverified_numbers": self.unverified_numbers,
            "dutch_answered_otherwise": self.dutch_answered_otherwise,
            "median_words": statistics.median(self.words) if self.words else None,
            "median_readability": round(statistics.median(self.readability), 1) if self.readability else None,
            "counts": {
                "answerable": self.answerable,
                "facts": self.facts_total,
                "facts_found": self.facts_found,
                "out_of_scope": self.out_of_scope,
                "wrong_tenant": self.wrong_tenant,
                "personal": self.personal,
                "citations": self.citations,
                "dutch_answered": self.dutch_asked,
            },
            "fallbacks": dict(sorted(self.fallbacks.items())),
            "latency_ms": {
                stage: {"p50": round(_pct(values, 50), 1), "p95": round(_pct(values, 95), 1)}
                for stage, values in self.timings.items()
            },
        }

    def rows(self, compact: bool = False) -> list[tuple[str, str]]:
        """(metric, value) pairs; ``compact`` leaves out the counts behind each percentage and the
        latencies."""

        def pct(a: int, b: int) -> str:
            if not b:
                return "-"
            return f"{a / b:.1%}" if compact else f"{a / b:.1%} ({a}/{b})"

        declinable = self.out_of_scope + self.wrong_tenant
        rows = [
            ("answer facts present", pct(self.facts_found, self.facts_total)),
            ("questions fully answered", pct(self.fully_answered, self.answerable)),
            ("answerable wrongly declined", pct(self.wrongly_declined, self.answerable)),
            ("out-of-scope declined", pct(self.out_of_scope_declined, self.out_of_scope)),
            ("wrong-tenant declined", pct(self.wrong_tenant_declined, self.wrong_tenant)),
            (
                "out-of-scope + wrong-tenant declined",
                pct(self.out_of_scope_declined + self.wrong_tenant_declined, declinable),
            ),
            ("personal cases routed", pct(self.personal_routed, self.personal)),
            ("answers leaking another tenant's facts", str(self.leaked)),
            ("citation validity", pct(self.valid_citations, self.citations)),
            ("invented citations", str(self.invented_citations)),
            ("unverified numbers reaching the resident", str(self.unverified_numbers)),
            (
                "Dutch questions answered in another language",
                f"{self.dutch_answered_otherwise} of {self.dutch_asked}",
            ),
            ("median answer length (words)", f"{statistics.median(self.words):.0f}" if self.words else "-"),
            (
                "median readability (Flesch-Douma)",
                f"{statistics.median(self.readability):.1f}" if self.readability else "-",
            ),
        ]
        if compact:
            return rows
        if self.fallbacks:
            rows.append(("LLM fallbacks", ", ".join(f"{k}={v}" for k, v in sorted(self.fallbacks.items()))))
        for stage, values in self.timings.items():
            rows.append((f"latency {stage} p50 / p95 ms", f"{_pct(values, 50):.1f} / {_pct(values, 95):.1f}"))
        return rows


def _pct(values: list[float], q: int) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def shown_text(answer: str) -> str:
    """The answer without its citation markers: "in Nederland [1]." states "in Nederland."."""
    return CITATION.sub("", answer)


def contains(text: str, fact: str) -> bool:
    return normalise_for_match(fact) in normalise_for_match(text)


@dataclass
class AnswerReports:
    """One backend's reports: all items, per tenant and per group of tenants."""

    overall: AnswerReport
    by_tenant: dict[str, AnswerReport]
    by_group: dict[str, AnswerReport]

    def columns(self) -> dict[str, AnswerReport]:
        """Report per column of a table: all, the groups, then each tenant."""
        return {"all": self.overall, **self.by_group, **dict(sorted(self.by_tenant.items()))}

    def figures(self) -> dict[str, Any]:
        return {name: report.figures() for name, report in self.columns().items()}


def evaluate_answers(
    service: AnswerService,
    tenants: dict[str, TenantProfile],
    index: EvalIndex,
    questions: list[dict[str, Any]],
    out_of_scope: list[dict[str, Any]],
    backend: str,
    page_text: dict[str, str],
    groups: dict[str, set[str]] | None = None,
    personal: list[dict[str, Any]] | None = None,
) -> AnswerReports:
    """``page_text`` maps a page name (as in gold_docs) to its indexed text, for citation checks;
    ``groups`` names sets of tenant slugs to report together (e.g. ``{"kept aside": {...}}``);
    ``personal`` are questions about the resident's own file (``expected: personal_case``)."""
    personal = personal or []
    groups = groups or {}
    reports = AnswerReports(
        AnswerReport(backend),
        {
            slug: AnswerReport(backend)
            for slug in sorted({i["tenant"] for i in [*questions, *out_of_scope, *personal]})
        },
        {name: AnswerReport(backend) for name in groups},
    )
    for item, answer in ask_all(service, tenants, [*questions, *personal], out_of_scope, backend):
        slug = item["tenant"]
        targets = [reports.overall, reports.by_tenant[slug]]
        targets += [reports.by_group[name] for name, members in groups.items() if slug in members]
        for report in targets:
            _score(report, item, answer, index, page_text)
    return reports


def ask_all(
    service: AnswerService,
    tenants: dict[str, TenantProfile],
    questions: list[dict[str, Any]],
    out_of_scope: list[dict[str, Any]],
    backend: str,
) -> Iterator[tuple[dict[str, Any], Answer]]:
    """Ask every item to its tenant with the given backend, follow-ups after their parent in the same
    conversation; out-of-scope items are marked ``expected: decline_or_refer``."""
    history: dict[str, list[tuple[str, str]]] = {}
    for item in [
        *questions,
        *({**o, "expected": "decline_or_refer", "category": "out-of-scope"} for o in out_of_scope),
    ]:
        tenant = tenants[item["tenant"]]
        settings = tenant.settings.model_copy(update={"answer_backend": backend})
        tenant = tenant.model_copy(update={"settings": settings})
        turns = history.get(item.get("follow_up_of") or "", [])
        answer = service.answer(tenant, item["question"], turns, item.get("language"))
        history[item["id"]] = [*turns, ("resident", item["question"]), ("assistant", answer.text)]
        yield item, answer


def _score(
    report: AnswerReport, item: dict[str, Any], answer: Answer, index: EvalIndex, page_text: dict[str, str]
) -> None:
    for stage, value in answer.timings_ms.items():
        report.timings[stage].append(value)
    report.timings["overhead (all but LLM generation)"].append(answer.overhead_ms)
    if answer.fallback:
        report.fallbacks[answer.fallback] += 1
    if answer.readability is not None and not answer.declined:
        report.readability.append(answer.readability)
    if not answer.declined:
        report.words.append(len(shown_text(answer.text).split()))
        if item.get("language", "nl") == "nl":
            report.dutch_asked += 1
            if detect(shown_text(answer.text)) != "nl":
                report.dutch_answered_otherwise += 1
    retrieved = {p.url for p in answer.passages}
    facts = item.get("answer_facts") or []
    for source in answer.sources:
        if source.url not in retrieved:
            report.invented_citations += 1
        if answer.declined:
            # A reply that routes the resident (a personal case) may cite what the site says in
            # general; whether that page answers is not what the set can judge.
            continue
        report.citations += 1
        page = index.page_of(source.url)
        gold = set(item.get("gold_docs") or [])
        if page in gold or any(contains(page_text.get(page, ""), f) for f in facts):
            report.valid_citations += 1
    if not answer.declined and answer.sources:
        cited = " ".join(page_text.get(index.page_of(s.url), "") for s in answer.sources)
        shown = shown_text(answer.text)  # citation markers are not facts
        unverified = numbers_in(shown) - numbers_in(cited)
        if unverified:
            report.unverified_numbers += len(unverified)
            report.failures.append(
                _failure(item, answer, [f"unverified number {n}" for n in sorted(unverified)])
            )
    if item.get("expected") == "answer":
        report.answerable += 1
        found = [f for f in facts if contains(shown_text(answer.text), f)]
        report.facts_total += len(facts)
        report.facts_found += len(found)
        report.fully_answered += len(found) == len(facts) and not answer.declined
        report.wrongly_declined += answer.declined
        if answer.declined or len(found) < len(facts):
            report.failures.append(_failure(item, answer, [f for f in facts if f not in found]))
        return
    if item.get("expected") == "personal_case":
        report.personal += 1
        routed = answer.reason == "personal_case"
        report.personal_routed += routed
        if not routed:
            report.failures.append(_failure(item, answer, []))
        return
    wrong_tenant = item.get("category") == "wrong-tenant"
    if wrong_tenant:
        report.wrong_tenant += 1
        report.wrong_tenant_declined += answer.declined
    else:
        report.out_of_scope += 1
        report.out_of_scope_declined += answer.declined
    leaks = [f for f in item.get("leak_facts") or [] if contains(answer.text, f)]
    report.leaked += bool(leaks)
    if not answer.declined:
        report.failures.append(_failure(item, answer, leaks))


def _failure(item: dict[str, Any], answer: Answer, missing: list[str]) -> dict[str, Any]:
    """A failed item as the reader of ``--failures`` needs it: what was missed or leaked, whether a
    missed fact was in the retrieved passages at all (retrieval or selection lost it), and the
    sentences the resident was shown, with their sources."""
    retrieved = " ".join(p.text for p in answer.passages)
    return {
        "id": item["id"],
        "tenant": item["tenant"],
        "question": item["question"],
        "expected": item.get("expected"),
        "gold_docs": item.get("gold_docs") or [],
        "declined": answer.declined,
        "reason": answer.reason,
        "missing_or_leaked": missing,
        "missing_in_retrieved": [f for f in missing if contains(retrieved, f)],
        "shown": sentences_of(shown_text(answer.text)),
        "sources": [s.url for s in answer.sources],
        "evidence": answer.evidence,
    }
