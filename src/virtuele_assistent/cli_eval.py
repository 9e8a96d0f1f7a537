"""`va eval retrieval|answers|redteam`: quality on an evaluation set, per municipality.

Each command can be limited to some tenants (``--tenant``), reports every tenant on a row of its own
and, with ``--kept-aside``, two summary rows: the tenants tuned on and those kept aside from tuning.
``--index-dir`` keeps the index of the set's sites and reuses it while pages, indexing code and
embedder are unchanged, so that a second run only asks the questions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from virtuele_assistent.cli_common import console, err, fail, services_or_exit, settings_or_exit
from virtuele_assistent.quality.evalset import (
    EvalRun,
    load_jsonl,
    open_eval_index,
    select_tenants,
    tenant_groups,
)

eval_app = typer.Typer(
    help="Measure retrieval, answer quality and safety on an evaluation set, per municipality.",
    no_args_is_help=True,
)
wide = Console(width=max(console.width, 160))

TenantOption = Annotated[
    list[str] | None, typer.Option("--tenant", help="Only this tenant's questions; repeat for several.")
]
KeptAsideOption = Annotated[
    list[str] | None,
    typer.Option(
        "--kept-aside",
        help="Tenant kept aside from tuning; repeat. Adds the rows 'tuned' and 'kept aside'.",
    ),
]
IndexDirOption = Annotated[
    Path | None,
    typer.Option(
        help="Keep the evaluation index in this folder and reuse it while the pages, the indexing code "
        "and the embedder are unchanged (default: a temporary folder)."
    ),
]
ContactsOption = Annotated[
    Path | None,
    typer.Option(
        help="JSON file with each tenant's contact details, as a municipality fills them in: "
        '{"slug": {"phone": "14 010", "address": "...", "opening_hours": {"ma": "09:00-17:00"}}}.'
    ),
]
SitesOption = Annotated[
    Path | None,
    typer.Option(
        help="Site folder: one sub-folder per tenant, or one tenant's pages (default: 'sites' "
        "beside the questions)."
    ),
]


def _site_dir(questions: Path, sites: Path | None) -> Path:
    if not questions.is_file():
        raise fail(f"Questions file not found: {questions}")
    site_dir = sites or questions.parent / "sites"
    if not site_dir.is_dir():
        raise fail(f"Site folder not found: {site_dir} (use --sites)")
    return site_dir


def _load(path: Path) -> list[dict[str, Any]]:
    try:
        return load_jsonl(path)
    except (OSError, ValueError) as error:
        raise fail(str(error), 2) from None


def _groups(slugs: list[str], kept_aside: list[str] | None) -> dict[str, set[str]]:
    try:
        return tenant_groups(slugs, kept_aside or [])
    except ValueError as error:
        raise fail(str(error).capitalize(), 2) from None


def _open(sites: Path, slugs: list[str], index_dir: Path | None) -> Any:
    from virtuele_assistent.observability.logging import configure_logging

    settings = settings_or_exit()
    configure_logging(settings, command=True)
    try:
        return open_eval_index(settings, sites, slugs, index_dir)
    except ValueError as error:
        raise fail(str(error)) from None


def _contacts(path: Path | None) -> dict[str, Any]:
    """The contact details of ``--contacts``, validated; {} without the option."""
    from pydantic import ValidationError

    from virtuele_assistent.quality.contact_eval import load_contacts

    if path is None:
        return {}
    try:
        return load_contacts(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as error:
        first = str(error).splitlines()[0]
        raise fail(f"{path}: not a file of contact details per tenant ({first})", 2) from None


def _with_contacts(run: EvalRun, contacts: dict[str, Any]) -> None:
    """Give the evaluation's tenants the contact details a municipality would fill in."""
    for slug, contact in contacts.items():
        if slug in run.profiles:
            run.profiles[slug] = run.profiles[slug].model_copy(update={"contact": contact})


def _index_info(run: EvalRun) -> dict[str, Any]:
    summaries = run.index.summaries.values()
    counts = [s.counts for s in summaries]
    return {
        "reused": run.reused,
        "pages": sum(len(s.outcomes) for s in summaries),
        "indexed": sum(c.get("new", 0) + c.get("changed", 0) for c in counts),
        "seconds": run.index_seconds,
    }


def _announce(run: EvalRun) -> dict[str, Any]:
    info = _index_info(run)
    how = "reused" if info["reused"] else "built"
    err.print(f"Index {how}: {info['pages']} pages, {info['indexed']} (re)indexed, {info['seconds']:.1f} s")
    return info


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    console.print(f"Results written to {path}")


def _rows_in_order(
    by_tenant: dict[str, Any], by_group: dict[str, Any], overall: Any
) -> list[tuple[str, Any]]:
    """Each tenant, then the groups, then all: the order of every per-municipality table."""
    return [*sorted(by_tenant.items()), *by_group.items(), ("all", overall)]


@eval_app.command("answers")
def eval_answers(
    questions: Annotated[
        Path, typer.Option(help="JSONL questions (id, tenant, question, answer_facts, ...).")
    ],
    out_of_scope: Annotated[
        Path | None, typer.Option(help="JSONL questions that no page answers (must be declined).")
    ] = None,
    sites: SitesOption = None,
    backend: Annotated[
        list[str] | None, typer.Option(help="Answer backend to evaluate; repeat for several tables.")
    ] = None,
    tenant: TenantOption = None,
    kept_aside: KeptAsideOption = None,
    index_dir: IndexDirOption = None,
    contacts: ContactsOption = None,
    output: Annotated[
        Path | None, typer.Option("--json", help="Write the figures per tenant and group as JSON here.")
    ] = None,
    failures: Annotated[
        Path | None,
        typer.Option(
            help="Write the failed items (missed facts, the sentences shown, sources) as JSON here."
        ),
    ] = None,
    personal_cases: Annotated[
        bool,
        typer.Option(
            help="Also ask the project's questions about a resident's own file (quality/data/"
            "personal_cases.jsonl) of the tenants evaluated; they must be routed, not answered."
        ),
    ] = True,
) -> None:
    """Ask every question through the real answer pipeline; report answer quality per backend, per
    municipality and for the municipalities kept aside from tuning."""
    from virtuele_assistent.quality.answers import evaluate_answers
    from virtuele_assistent.quality.evalset import page_texts
    from virtuele_assistent.quality.personal_fit import personal_cases as project_personal_cases

    site_dir = _site_dir(questions, sites)
    items = select_tenants(_load(questions), tenant)
    declinable = select_tenants(_load(out_of_scope), tenant) if out_of_scope else []
    if not items and not declinable:
        raise fail(f"No questions for tenant {', '.join(tenant or [])}", 2)
    backends = backend or ["extractive"]
    unknown = [b for b in backends if b not in ("extractive", "openai", "local")]
    if unknown:
        raise fail(f"Unknown backend: {', '.join(unknown)} (extractive, openai, local)", 2)
    slugs = sorted({i["tenant"] for i in [*items, *declinable]})
    personal = [i for i in project_personal_cases() if i["tenant"] in slugs] if personal_cases else []
    groups = _groups(slugs, kept_aside)
    details = _contacts(contacts)
    results: dict[str, Any] = {}
    with _open(site_dir, slugs, index_dir) as run:
        index_info = _announce(run)
        _with_contacts(run, details)
        texts = page_texts(site_dir, run.index)
        for name in backends:
            reports = evaluate_answers(
                run.services.answers,
                run.profiles,
                run.index,
                items,
                declinable,
                name,
                texts,
                groups,
                personal,
            )
            title = f"Answers - backend {name} ({len(items) + len(declinable) + len(personal)} questions)"
            table = Table("metric", "value", title=title)
            for metric, value in reports.overall.rows():
                table.add_row(metric, value)
            console.print(table)
            if len(reports.by_tenant) > 1:
                _print_answers_per_tenant(reports, f"{title}, per municipality")
            results[name] = {"figures": reports.figures(), "failures": reports.overall.failures}
    if output:
        _write_json(
            output,
            {
                "tenants": slugs,
                "groups": {k: sorted(v) for k, v in groups.items()},
                "index": index_info,
                "backends": {name: result["figures"] for name, result in results.items()},
            },
        )
    if failures:
        _write_json(failures, {name: result["failures"] for name, result in results.items()})


# The per-municipality columns of `va eval answers`, with whether each is a share or a count.
ANSWER_COLUMNS = (
    ("facts", "answer_facts_present", True),
    ("fully", "fully_answered", True),
    ("wrongly declined", "wrongly_declined", True),
    ("out of scope declined", "out_of_scope_declined", True),
    ("wrong tenant declined", "wrong_tenant_declined", True),
    ("personal routed", "personal_cases_routed", True),
    ("citations valid", "citation_validity", True),
    ("invented citations", "invented_citations", False),
    ("median words", "median_words", False),
)


def _print_answers_per_tenant(reports: Any, title: str) -> None:
    table = Table("tenant", "questions", *(label for label, _, _ in ANSWER_COLUMNS), title=title)
    last = sorted(reports.by_tenant)[-1]
    for name, report in _rows_in_order(reports.by_tenant, reports.by_group, reports.overall):
        figures = report.figures()
        counts = figures["counts"]
        asked = counts["answerable"] + counts["out_of_scope"] + counts["wrong_tenant"] + counts["personal"]
        cells = [_cell(figures[key], share) for _, key, share in ANSWER_COLUMNS]
        table.add_row(name, str(asked), *cells, end_section=name == last)
    wide.print(table)


def _cell(value: float | None, share: bool) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if share else f"{value:g}"


@eval_app.command("retrieval")
def eval_retrieval(
    questions: Annotated[Path, typer.Option(help="JSONL questions with gold pages.")],
    sites: SitesOption = None,
    distractors: Annotated[
        int, typer.Option(help="Also evaluate with this many extra distractor chunks (scale test).")
    ] = 0,
    tenant: TenantOption = None,
    kept_aside: KeptAsideOption = None,
    index_dir: IndexDirOption = None,
    output: Annotated[Path, typer.Option("--json", help="Where to write the results as JSON.")] = Path(
        "retrieval-eval.json"
    ),
) -> None:
    """Recall@1/3/5/10, MRR@10 and nDCG@10 for baseline, BM25, dense, hybrid and hybrid + re-rank,
    overall and per municipality."""
    from virtuele_assistent.quality import retrieval_eval

    site_dir = _site_dir(questions, sites)
    if distractors and index_dir:
        raise fail("--distractors adds chunks to the index: leave out --index-dir", 2)
    asked = [q for q in retrieval_eval.load_questions(questions) if not tenant or q.tenant in tenant]
    if not asked:
        raise fail(f"No questions for tenant {', '.join(tenant or [])}", 2)
    slugs = sorted({q.tenant for q in asked})
    groups = _groups(slugs, kept_aside)
    with _open(site_dir, slugs, index_dir) as run:
        index_info = _announce(run)
        result = retrieval_eval.run(
            run.services, run.index, asked, site_dir, distractors, progress=lambda m: err.print(m)
        )
    result.info["index"] = index_info
    table = Table(
        *("set", "method", "subset", "n", "R@1", "R@3", "R@5", "R@10", "MRR@10", "nDCG@10", "leaks", "p50 ms")
    )
    for row in result.rows:
        table.add_row(
            row["set"] or "clean",
            row["method"],
            row["subset"],
            str(row["n"]),
            *(f"{row[m]:.3f}" for m in ("R@1", "R@3", "R@5", "R@10", "MRR@10", "nDCG@10")),
            "" if row["leaks"] is None else str(row["leaks"]),
            "" if row["p50_ms"] is None else f"{row['p50_ms']:.0f}",
        )
    wide.print(table)
    by_tenant = retrieval_eval.per_tenant(result.per_question, groups)
    tenant_table = Table(
        "tenant",
        "n",
        *(f"{m} {k}" for m in retrieval_eval.TENANT_METHODS for k in ("R@5", "MRR@10")),
        title="Retrieval per municipality (clean set)",
    )
    for name, figures in by_tenant.items():
        cells = [f"{figures[m][k]:.3f}" for m in retrieval_eval.TENANT_METHODS for k in ("R@5", "MRR@10")]
        tenant_table.add_row(name, str(figures["n"]), *cells, end_section=name == slugs[-1])
    wide.print(tenant_table)
    console.print(json.dumps(result.info))
    _write_json(
        output,
        {"info": result.info, "rows": result.rows, "by_tenant": by_tenant, "questions": result.per_question},
    )


@eval_app.command("contact")
def eval_contact(
    sites: Annotated[
        Path, typer.Option(help="Site folder: one sub-folder per tenant, or one tenant's pages.")
    ],
    contacts: Annotated[
        Path,
        typer.Option(
            help='JSON file with each tenant\'s contact details: {"slug": {"phone": "14 010", ...}}.'
        ),
    ],
    tenant: TenantOption = None,
    kept_aside: KeptAsideOption = None,
    index_dir: IndexDirOption = None,
    output: Annotated[
        Path | None, typer.Option("--json", help="Write the figures per tenant and group as JSON here.")
    ] = None,
) -> None:
    """Questions about the municipality itself (phone, e-mail, address, opening hours): answered from
    the tenant's contact details with a page that publishes them as source; topic questions that name
    a channel ("telefoonnummer van de politie") left to retrieval. Per municipality."""
    from virtuele_assistent.quality.contact_eval import evaluate_contact, summed
    from virtuele_assistent.quality.evalset import page_texts

    if not sites.is_dir():
        raise fail(f"Site folder not found: {sites}", 2)
    details = {k: v for k, v in _contacts(contacts).items() if not tenant or k in tenant}
    if not details:
        raise fail(f"No contact details for tenant {', '.join(tenant or [])} in {contacts}", 2)
    slugs = sorted(details)
    groups = _groups(slugs, kept_aside)
    with _open(sites, slugs, index_dir) as run:
        _announce(run)
        _with_contacts(run, details)
        texts = page_texts(sites, run.index)
        profiles = {slug: run.profiles[slug] for slug in slugs if slug in run.profiles}
        missing = sorted(set(slugs) - set(profiles))
        if missing:
            raise fail(f"No site folder for tenant {', '.join(missing)} in {sites}", 2)
        reports = evaluate_contact(run.services.answers, profiles, run.index, texts)
    rows = _rows_in_order(reports, {n: summed(reports, m) for n, m in groups.items()}, summed(reports))
    columns = (
        *("contact_questions", "answered_from_details", "details_given", "source_publishes_them"),
        *("topic_questions", "topic_left_to_retrieval", "not_filled_in"),
    )
    table = Table(
        "tenant", *(c.replace("_", " ") for c in columns), title="Contact questions per municipality"
    )
    for name, report in rows:
        figures = report.figures()
        cells = [_cell(figures[c], isinstance(figures[c], float)) for c in columns]
        table.add_row(name, *cells, end_section=name == slugs[-1])
    wide.print(table)
    failed = summed(reports).failures
    for failure in failed:
        reason = failure.get("reason", "contact")
        err.print(f"  {failure['tenant']} {failure['id']}: {reason}: {failure['answer'][:100]!r}")
    if output:
        _write_json(output, {"figures": {n: r.figures() for n, r in rows}, "failures": failed})


@eval_app.command("redteam")
def eval_redteam(
    prompts: Annotated[list[Path], typer.Option("--prompts", help="JSONL file or folder; repeatable.")],
    tenant: TenantOption = None,
    fallback_tenant: Annotated[
        str | None, typer.Option(help="Tenant for prompts whose own tenant does not exist here.")
    ] = None,
    sites: Annotated[
        Path | None,
        typer.Option(
            help="Ask the prompts on an evaluation index of this site folder (one sub-folder per "
            "tenant) instead of the configured data."
        ),
    ] = None,
    kept_aside: KeptAsideOption = None,
    index_dir: IndexDirOption = None,
    show: Annotated[bool, typer.Option("--show", help="Print every reply.")] = False,
    output: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
) -> None:
    """Run red-team prompts through the chat pipeline: guardrails, must_not_contain, PII echo; per
    dimension and per municipality."""
    from virtuele_assistent.conversations.redteam import load_cases

    for path in prompts:
        if not path.exists():
            raise fail(f"Not found: {path}", 2)
    cases = [c for c in load_cases(*prompts) if not tenant or c.tenant in tenant]
    if not cases:
        raise fail(f"No prompts for tenant {', '.join(tenant or [])}", 2)
    if sites is not None:
        if not sites.is_dir():
            raise fail(f"Site folder not found: {sites}")
        slugs = sorted({c.tenant for c in cases if c.tenant})
        with _open(sites, slugs, index_dir) as run:
            _announce(run)
            results = _redteam_cases(run.services, cases, fallback_tenant, show)
    else:
        services = services_or_exit()
        services.db.upgrade()
        try:
            results = _redteam_cases(services, cases, fallback_tenant, show)
        finally:
            services.close()
    _print_redteam(results, kept_aside)
    if output:
        _write_json(
            output,
            {
                "results": [
                    {
                        "id": r.case.id,
                        "tenant": slug,
                        "dimension": r.case.dimension,
                        "passed": r.passed,
                        "guardrail": r.guardrail,
                        "failures": r.failures,
                    }
                    for slug, r in results
                ]
            },
        )


def _redteam_cases(
    services: Any, cases: list[Any], fallback: str | None, show: bool
) -> list[tuple[str, Any]]:
    from virtuele_assistent.conversations.redteam import run_case
    from virtuele_assistent.tenants.service import TenantNotFound, get_profile, list_tenants

    known = {t.slug for t in list_tenants(services.db)}
    fallback = fallback or ("voorbeeldstad" if "voorbeeldstad" in known else next(iter(sorted(known)), None))
    if fallback is None:
        raise fail("No tenant exists; run `va demo --no-serve` first.")
    results = []
    for case in cases:
        slug = case.tenant if case.tenant in known else fallback
        try:
            profile = get_profile(services.db, slug)
        except TenantNotFound:
            raise fail(f"Tenant '{slug}' does not exist.") from None
        result = run_case(services.chat, profile, case)
        results.append((slug, result))
        if show or not result.passed:
            mark = "ok  " if result.passed else "FAIL"
            console.print(
                f"{mark} {case.id} [{slug}] guardrail={result.guardrail} {'; '.join(result.failures)}"
            )
            if show:
                console.print(f"     {result.answer[:300]}")
    return results


def _print_redteam(results: list[tuple[str, Any]], kept_aside: list[str] | None) -> None:
    from virtuele_assistent.conversations.redteam import summarize

    table = Table("dimension", "passed", "total", "pass rate", "guardrail answered")
    guarded: dict[str, int] = {}
    for _, result in results:
        if result.guardrail not in (None, "handover"):
            guarded[result.case.dimension] = guarded.get(result.case.dimension, 0) + 1
    guarded["all"] = sum(guarded.values())
    for dimension, (passed, total) in summarize([r for _, r in results]).items():
        table.add_row(
            dimension, str(passed), str(total), f"{passed / total:.1%}", str(guarded.get(dimension, 0))
        )
    console.print(table)
    slugs = sorted({slug for slug, _ in results})
    if len(slugs) > 1:
        groups = _groups(slugs, kept_aside)
        per = Table("tenant", "passed", "total", "pass rate", title="Red team per municipality")
        rows = [(slug, {slug}) for slug in slugs] + list(groups.items()) + [("all", set(slugs))]
        for name, members in rows:
            mine = [r for slug, r in results if slug in members]
            passed = sum(r.passed for r in mine)
            per.add_row(
                name, str(passed), str(len(mine)), f"{passed / len(mine):.1%}", end_section=name == slugs[-1]
            )
        console.print(per)
    console.print(
        "Checks: expect=refuse -> a guardrail answered; expect=answer -> none did; must_not_contain; "
        "pii_values neither echoed nor stored."
    )


@eval_app.command("fit-selection")
def eval_fit_selection(
    questions: Annotated[Path, typer.Option(help="JSONL questions with answer facts.")],
    sites: SitesOption = None,
    kept_aside: KeptAsideOption = None,
    index_dir: IndexDirOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the model fitted on the tuned tenants here (the package reads "
            "answering/data/unit_model.json)."
        ),
    ] = None,
) -> None:
    """Fit the unit scorer (which sentences carry the answer's facts) on the tenants tuned on; report
    it per municipality left out of the fit, in sample, and on the tenants kept aside, against the
    model shipped with the package."""
    from virtuele_assistent.quality import selection_fit

    site_dir = _site_dir(questions, sites)
    items = _load(questions)
    slugs = sorted({i["tenant"] for i in items})
    aside = _groups(slugs, kept_aside).get("kept aside", set())
    with _open(site_dir, slugs, index_dir) as run:
        _announce(run)
        examples = selection_fit.collect(run.services.answers, run.profiles, items)
    report = _fit_and_measure(examples, selection_fit, aside)
    table = Table(
        "tenant",
        "group",
        "questions",
        *(f"{w} R@{k}" for w in ("shipped", "fitted") for k in selection_fit.KS),
        title="Facts in the first units of the ranking",
    )
    for group, results in _fit_groups(report):
        for fold in results:
            table.add_row(fold.tenant, group, str(fold.questions), *_recalls(fold))
    wide.print(table)
    _finish_fit(report, out)


@eval_app.command("fit-scope")
def eval_fit_scope(
    questions: Annotated[Path, typer.Option(help="JSONL questions with answer facts.")],
    out_of_scope: Annotated[
        Path, typer.Option(help="JSONL questions that no page answers (must be declined).")
    ],
    sites: SitesOption = None,
    kept_aside: KeptAsideOption = None,
    index_dir: IndexDirOption = None,
    contacts: ContactsOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the model fitted on the tuned tenants here (the package reads "
            "answering/data/scope_model.json)."
        ),
    ] = None,
) -> None:
    """Fit the scope check (does the content answer the question, or is it declined?) on the tenants
    tuned on; report per municipality left out of the fit, in sample and kept aside, the answerable
    questions declined and the out-of-scope questions declined, for the check shipped with the
    package and the one fitted."""
    from virtuele_assistent.quality import scope_fit

    site_dir = _site_dir(questions, sites)
    if not out_of_scope.is_file():
        raise fail(f"Questions file not found: {out_of_scope}")
    items, declinable = _load(questions), _load(out_of_scope)
    slugs = sorted({i["tenant"] for i in [*items, *declinable]})
    aside = _groups(slugs, kept_aside).get("kept aside", set())
    with _open(site_dir, slugs, index_dir) as run:
        _announce(run)
        _with_contacts(run, _contacts(contacts))
        examples = scope_fit.collect(run.services.answers, run.profiles, items, declinable)
    report = _fit_and_measure(examples, scope_fit, aside)
    _print_fit_table(
        report,
        "Scope check: answerable questions declined, out-of-scope questions declined",
        [
            "wrongly declined (shipped)",
            "out of scope declined (shipped)",
            "wrongly declined",
            "out of scope declined",
        ],
        lambda fold: [
            f"{fold.shipped_wrongly_declined}/{fold.answerable}",
            f"{fold.shipped_declined}/{fold.out_of_scope}",
            f"{fold.wrongly_declined}/{fold.answerable}",
            f"{fold.declined}/{fold.out_of_scope}",
        ],
    )
    _finish_fit(report, out)


def _fit_and_measure(examples: list[Any], step: Any, aside: set[str]) -> Any:
    """Fit a step's model (a module with tenant_of, fit and measure) with each tuned tenant left out
    once, and measure it; a failing exit when it cannot be fitted."""
    from virtuele_assistent.quality import fitting

    try:
        return fitting.fit_and_measure(examples, step.tenant_of, step.fit, step.measure, aside)
    except (fitting.FitUnavailable, ValueError) as error:
        raise fail(str(error)) from None


def _fit_groups(report: Any) -> list[tuple[str, list[Any]]]:
    return [("left out", report.left_out), ("in sample", report.in_sample), ("kept aside", report.kept_aside)]


def _print_fit_table(report: Any, title: str, columns: list[str], cells: Any) -> None:
    """One row per municipality and group (left out, in sample, kept aside): ``cells(fold)`` gives
    the values of ``columns``."""
    table = Table("tenant", "group", *columns, title=title)
    for group, results in _fit_groups(report):
        for fold in results:
            table.add_row(fold.tenant, group, *cells(fold))
    wide.print(table)


def _finish_fit(report: Any, out: Path | None) -> None:
    """Print the fitted model's weights and threshold; write it with its figures to ``out``."""
    model = report.model
    weights = sorted(zip(model.features, model.coefficients, strict=True), key=lambda fc: -abs(fc[1]))
    console.print("coefficients: " + ", ".join(f"{name} {coef:+.2f}" for name, coef in weights))
    console.print(
        f"threshold {model.threshold:.2f}, C {model.figures['regularisation']}, "
        f"fitted on {', '.join(model.trained_on)}"
    )
    if out:
        out.write_text(report.with_figures().to_json(), encoding="utf-8")
        console.print(f"Model written to {out}")


def _recalls(fold: Any) -> list[str]:
    return [f"{v:.3f}" for v in (*fold.shipped, *fold.fitted)]


@eval_app.command("fit-followup")
def eval_fit_followup(
    questions: Annotated[Path, typer.Option(help="JSONL questions, follow-ups marked with follow_up_of.")],
    kept_aside: KeptAsideOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the model fitted on the tuned tenants here (the package reads "
            "retrieval/data/followup_model.json)."
        ),
    ] = None,
) -> None:
    """Fit the follow-up decision (does a question continue the conversation?) on the tenants tuned
    on; report, per municipality left out of the fit, in sample and kept aside, the follow-ups found
    and the questions wrongly given the topic of an unrelated question before them, for the model
    shipped with the package and the one fitted."""
    from virtuele_assistent.quality import followup_fit
    from virtuele_assistent.retrieval.followup import followup_model

    if not questions.is_file():
        raise fail(f"Questions file not found: {questions}")
    pairs = followup_fit.pairs_of(_load(questions))
    slugs = sorted({p.tenant for p in pairs})
    aside = _groups(slugs, kept_aside).get("kept aside", set())
    report = _fit_and_measure(pairs, followup_fit, aside)
    shipped = followup_model()

    def cells(fold: Any) -> list[str]:
        before = followup_fit.measure(shipped, [p for p in pairs if p.tenant == fold.tenant], fold.tenant)
        return [
            f"{before.found}/{before.follow_ups}",
            f"{before.rewritten}/{before.others}",
            f"{fold.found}/{fold.follow_ups}",
            f"{fold.rewritten}/{fold.others}",
        ]

    _print_fit_table(
        report,
        "Follow-ups: found, and questions after an unrelated one rewritten",
        ["follow-ups found (shipped)", "rewritten (shipped)", "follow-ups found", "rewritten"],
        cells,
    )
    _finish_fit(report, out)


@eval_app.command("fit-personal")
def eval_fit_personal(
    questions: Annotated[Path, typer.Option(help="JSONL questions; the answerable ones are the negatives.")],
    kept_aside: KeptAsideOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the model fitted on the tuned tenants here (the package reads "
            "answering/data/personal_model.json)."
        ),
    ] = None,
) -> None:
    """Fit the personal-case check (is the question about the resident's own file?) on the tenants
    tuned on, with the project's personal-case questions as positives; report, per municipality left
    out of the fit, in sample and kept aside, the personal questions routed and the answerable
    questions wrongly routed, for the check shipped with the package and the one fitted."""
    from virtuele_assistent.answering.personal import personal_model
    from virtuele_assistent.quality import personal_fit

    if not questions.is_file():
        raise fail(f"Questions file not found: {questions}")
    examples = personal_fit.collect(_load(questions), personal_fit.personal_cases(), personal_model())
    slugs = sorted({e.tenant for e in examples})
    aside = _groups(slugs, kept_aside).get("kept aside", set())
    report = _fit_and_measure(examples, personal_fit, aside)
    _print_fit_table(
        report,
        "Personal cases: routed to the resident's own channels, and answerable questions routed",
        ["personal routed (shipped)", "answerable routed (shipped)", "personal routed", "answerable routed"],
        lambda fold: [
            f"{fold.shipped_routed}/{fold.personal}",
            f"{fold.shipped_routed_answerable}/{fold.answerable}",
            f"{fold.routed}/{fold.personal}",
            f"{fold.routed_answerable}/{fold.answerable}",
        ],
    )
    _finish_fit(report, out)
