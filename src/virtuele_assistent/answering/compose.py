"""Step 4, compose: the selected units as a short answer with [n] citations, or a prompt for an LLM."""

from __future__ import annotations

import re
from dataclasses import dataclass

from virtuele_assistent.answering.prompts import PromptEngine, contact_routes
from virtuele_assistent.answering.select import ScoredUnit, Selection
from virtuele_assistent.answering.text import Terms, Unit, numbers_in
from virtuele_assistent.answering.understand import Understanding
from virtuele_assistent.answering.verify import CITATION
from virtuele_assistent.tenants.schemas import TenantProfile

# About 80 tokens of Dutch text: the best selected units given to a language model. Every prompt
# token costs time to the first word on a CPU; the units left out of the prompt are added to the
# answer in the source's words (``facts_left_out``). Measured on the demo set with the local model:
# 520 characters, first verified sentence p50 4.1 s; 260, 2.2 s; 160, 1.9 s.
PROMPT_BUDGET_CHARS = 260
# A selected unit counts as told by a composed answer when the answer uses this share of its words:
# a paraphrase that drops a qualifier ("of hoger", "alleen") is not the same statement.
WORDS_SAID = 0.8

# Said first when the resident writes in another language and no model can translate.
DUTCH_ONLY_NOTE = {
    "en": "I can only answer in Dutch. This is the answer from the information of {name}:",
    "de": "Ich kann nur auf Niederländisch antworten. Hier ist die Antwort aus den Informationen von {name}:",
    "fr": "Je ne peux répondre qu'en néerlandais. Voici la réponse d'après les informations de {name} :",
    "es": "Solo puedo responder en neerlandés. Esta es la respuesta según la información de {name}:",
    "pl": "Mogę odpowiadać tylko po niderlandzku. Oto odpowiedź na podstawie informacji {name}:",
    "tr": "Sadece Hollandaca cevap verebilirim. {name} bilgilerine göre cevap:",
    "uk": "Я можу відповідати лише нідерландською. Ось відповідь з інформації {name}:",
    "ar": "يمكنني الإجابة باللغة الهولندية فقط. هذه هي الإجابة من معلومات {name}:",
}


@dataclass
class Source:
    index: int
    url: str
    title: str
    units: list[ScoredUnit]

    @property
    def lines(self) -> list[str]:
        return [s.unit.text for s in self.units]

    @property
    def text(self) -> str:
        """What this citation number stands for: its selected units and the passages they come from."""
        passages = {s.passage.chunk_id: s.passage for s in self.units}
        return "\n".join([*self.lines, *(p.heading_path + "\n" + p.text for p in passages.values())])


def number_sources(selection: Selection) -> list[Source]:
    """One citation number per page, in the order the answer uses them."""
    by_url: dict[str, Source] = {}
    for scored in selection.units:
        url = scored.passage.url
        if url not in by_url:
            by_url[url] = Source(len(by_url) + 1, url, scored.passage.title or url, [])
        by_url[url].units.append(scored)
    return list(by_url.values())


def extractive_text(sources: list[Source]) -> str:
    """The selected units as they are: sentences as a paragraph, list items as a list, table rows as
    a Markdown table with their header, after the table's caption or heading unless the sentence
    before it announces it."""
    paragraphs = []
    for source in sources:
        blocks: list[str] = []
        sentences: list[str] = []
        items: list[str] = []
        table: list[ScoredUnit] = []

        def flush(
            blocks: list[str] = blocks,
            sentences: list[str] = sentences,
            items: list[str] = items,
            table: list[ScoredUnit] = table,
        ) -> None:
            if sentences:
                blocks.append(" ".join(sentences))
                sentences.clear()
            if items:
                blocks.append("\n".join(f"- {i}" for i in items))
                items.clear()
            if table:
                blocks.append(_markdown_table(table))
                table.clear()

        shown_heading = ""
        for scored in source.units:
            unit = scored.unit
            heading = condition_heading(unit)
            if heading and heading != shown_heading:
                flush()
                blocks.append(heading if heading.endswith(("?", "!", ":")) else f"{heading}:")
            shown_heading = heading
            kind = "row" if unit.kind == "row" and unit.cells else unit.kind
            if (
                kind == "row" and (items or sentences or (table and table[0].unit.header != unit.header))
            ) or (kind != "row" and table):
                flush()
            if kind == "row":
                if not table and not (blocks and blocks[-1].endswith(":")):
                    # A table says what it shows: its caption or heading, unless a sentence announced it.
                    label = unit.section
                    if label and label != shown_heading:
                        blocks.append(label if label.endswith(("?", "!", ":")) else f"{label}:")
                table.append(scored)
            elif kind == "item" or unit.kind == "row":
                if sentences:
                    flush()
                items.append(unit.text)
            else:
                if items:
                    flush()
                sentences.append(unit.text)
        flush()
        body = "\n".join(blocks)
        paragraphs.append(f"{body}\n[{source.index}]" if body.endswith("|") else f"{body} [{source.index}]")
    return "\n\n".join(paragraphs)


def condition_heading(unit: Unit) -> str:
    """The unit's section heading when it states a condition the unit depends on with a figure
    ("Dwarsdoorsnede van de stam groter dan 15 cm"): without it, "U hebt geen kapvergunning nodig"
    would be said of every tree."""
    if unit.kind == "row" or " > " not in unit.context:
        return ""
    heading = unit.section
    return heading if re.search(r"\d", heading) and heading not in unit.text else ""


def _markdown_table(rows: list[ScoredUnit]) -> str:
    header = rows[0].unit.header_cells
    width = max(len(header), *(len(r.unit.cells) for r in rows))
    lines = []
    if header:
        lines.append("| " + " | ".join(_pad(header, width)) + " |")
        lines.append("|" + "---|" * width)
    for scored in rows:
        lines.append("| " + " | ".join(_pad(scored.unit.cells, width)) + " |")
    return "\n".join(lines)


def _pad(cells: tuple[str, ...], width: int) -> list[str]:
    return [c.replace("|", "/") for c in cells] + [""] * (width - len(cells))


def dutch_only_note(language: str, tenant: TenantProfile) -> str | None:
    if language == "nl":
        return None
    template = DUTCH_ONLY_NOTE.get(language, DUTCH_ONLY_NOTE["en"])
    return template.format(name=tenant.name)


def personal_case_text(tenant: TenantProfile, general: str | None) -> str:
    """The reply to a question about the resident's own file: the assistant cannot see it; what the
    site says in general (``general``, with its citations), if anything; where the resident's own case
    can be seen or asked about."""
    your, you_see = tenant.addressed("uw", "je"), tenant.addressed("bekijkt u", "bekijk je")
    parts = [
        f"Ik kan {your} persoonlijke gegevens, aanvragen en dossiers niet inzien. Daarom weet ik niet "
        f"hoe het met {your} eigen aanvraag of zaak staat."
    ]
    if general:
        parts.append(f"Wat {tenant.name} er in het algemeen over zegt:\n\n{general}")
    own = []
    if tenant.contact.personal_environment_url:
        own.append(
            f"{your.capitalize()} eigen zaken {you_see} in {your} persoonlijke omgeving: "
            f"{tenant.contact.personal_environment_url}."
        )
    routes = contact_routes(tenant)
    if routes:
        own.append(f"Voor vragen over {your} eigen zaak: {' of '.join(routes)}.")
    if own:
        parts.append(" ".join(own))
    return "\n\n".join(parts)


def with_dutch_only_note(text: str, language: str, tenant: TenantProfile) -> str:
    """A Dutch text for a resident who wrote ``language``: after the note saying it is Dutch."""
    note = dutch_only_note(language, tenant)
    return f"{note}\n\n{text}" if note else text


def prompt_sources(sources: list[Source], budget_chars: int = PROMPT_BUDGET_CHARS) -> list[Source]:
    """The best selected units that fit the budget, in reading order, under their own citation
    numbers. Every prompt token costs time to first token on a CPU; figures left out of the prompt
    are added to the answer from the source afterwards (``facts_left_out``)."""
    ranked = sorted(
        ((scored, source.index) for source in sources for scored in source.units),
        key=lambda pair: -pair[0].score,
    )
    chosen: set[int] = set()
    used = 0
    for scored, _ in ranked:
        size = len(scored.unit.text) + 1
        if chosen and used + size > budget_chars:
            continue
        chosen.add(id(scored))
        used += size
    trimmed = []
    for source in sources:
        units = [s for s in source.units if id(s) in chosen]
        if units:
            trimmed.append(Source(source.index, source.url, source.title, units))
    return trimmed


def llm_messages(
    prompts: PromptEngine, tenant: TenantProfile, understanding: Understanding, sources: list[Source]
) -> list[dict[str, str]]:
    system = prompts.render(tenant, "system")
    user = prompts.render(
        tenant,
        "user",
        sources=prompt_sources(sources),
        question=understanding.standalone,
        language=understanding.language,
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def facts_left_out(sources: list[Source], answer: str, terms: Terms | None = None) -> list[Source]:
    """The selected units a composed answer left out, per source: those whose numbers (amounts,
    dates, times, phone numbers) it does not give, and, with ``terms``, those whose words it mostly
    does not use (a condition or exception the model skipped or never saw within its prompt budget).
    A model may write fluently and still drop the one fact the resident asked for; those units are
    then added in the source's own words, so no fact found is lost."""
    said = numbers_in(answer)
    said_terms = terms.of(answer) if terms is not None else frozenset()

    def told(unit: Unit) -> bool:
        if numbers_in(unit.text) - said:
            return False
        if terms is None:
            return True
        # An item without figures names a thing (a document, a condition) as the resident will meet
        # it; one with figures is told by its figures and most of its words.
        if unit.kind == "item" and not numbers_in(unit.text) and not _said_as_written(unit.text, answer):
            return False
        return _share_said(terms.of(unit.text), said_terms, terms) >= WORDS_SAID

    missing = []
    for source in sources:
        units = [s for s in source.units if not told(s.unit)]
        if units:
            missing.append(Source(source.index, source.url, source.title, units))
    return missing


def _said_as_written(item: str, answer: str) -> bool:
    """A list item names a thing (a document to bring, a condition) by the words a resident will meet
    on the form or at the desk: "Geldig identiteitsbewijs" is not told by "een geldige identiteitsbewijs"."""
    return _plain(item).rstrip(".;:") in _plain(answer)


def _plain(text: str) -> str:
    return " ".join(CITATION.sub(" ", text).lower().split())


def _share_said(unit_terms: frozenset[str], said: frozenset[str], terms: Terms) -> float:
    if not unit_terms:
        return 1.0
    return sum(1 for t in unit_terms if terms.matches(t, said) >= 0.7) / len(unit_terms)
