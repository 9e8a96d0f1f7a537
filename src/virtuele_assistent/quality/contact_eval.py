"""Contact questions: are questions about the municipality itself answered from its contact details,
with a page that publishes them as source, and are topic questions left to retrieval?

Every question of the set (``data/contact_questions.jsonl``: Dutch and English, generic, the same for
every municipality) is asked to every tenant that has contact details in the evaluation. A question
names the channels it asks for (phone, email, address, hours, or "any" way in); a question with none
is a topic question ("telefoonnummer van de politie") that must not be answered from the details.
A question asking for a channel the tenant has not filled in is left to retrieval and not scored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from virtuele_assistent.answering.contact import channels_to_answer
from virtuele_assistent.answering.service import AnswerService
from virtuele_assistent.quality.answers import contains, shown_text
from virtuele_assistent.quality.evalset import EvalIndex
from virtuele_assistent.tenants.schemas import ContactRoutes, TenantProfile


def contact_questions() -> list[dict[str, Any]]:
    text = (
        resources.files("virtuele_assistent.quality")
        .joinpath("data/contact_questions.jsonl")
        .read_text("utf-8")
    )
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def load_contacts(raw: dict[str, Any]) -> dict[str, ContactRoutes]:
    """``{"slug": {"phone": "14 010", ...}}`` as each tenant's contact details (validated)."""
    return {slug: ContactRoutes.model_validate(value) for slug, value in raw.items()}


@dataclass
class ContactReport:
    asked: int = 0  # contact questions whose channels the tenant has
    from_details: int = 0  # answered from the contact details
    details_given: int = 0  # ... with every detail asked for in the text
    sourced: int = 0  # ... citing a page that gives a detail of the answer
    topic_asked: int = 0  # topic questions
    topic_kept: int = 0  # ... not answered from the contact details
    not_filled_in: int = 0  # contact questions for a channel the tenant has not filled in
    failures: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: ContactReport) -> None:
        for name in ("asked", "from_details", "details_given", "sourced", "topic_asked", "topic_kept"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.not_filled_in += other.not_filled_in
        self.failures.extend(other.failures)

    def figures(self) -> dict[str, Any]:
        def share(part: int, whole: int) -> float | None:
            return round(part / whole, 3) if whole else None

        return {
            "contact_questions": self.asked,
            "answered_from_details": share(self.from_details, self.asked),
            "details_given": share(self.details_given, self.asked),
            "source_publishes_them": share(self.sourced, self.asked),
            "topic_questions": self.topic_asked,
            "topic_left_to_retrieval": share(self.topic_kept, self.topic_asked),
            "not_filled_in": self.not_filled_in,
        }


def _details(contact: ContactRoutes, channels: tuple[str, ...]) -> list[str]:
    """The strings an answer giving these channels must contain."""
    values = {
        "phone": [contact.phone],
        "email": [contact.email],
        "form": [str(contact.contact_form_url) if contact.contact_form_url else None],
        "address": [contact.address],
        "hours": list(contact.opening_hours.model_dump().values()),
    }
    return [v for c in channels for v in values[c] if v]


def evaluate_contact(
    service: AnswerService,
    tenants: dict[str, TenantProfile],
    index: EvalIndex,
    page_text: dict[str, str],
    questions: list[dict[str, Any]] | None = None,
) -> dict[str, ContactReport]:
    """Ask every question to every tenant given (with its contact details set); a report per tenant."""
    reports: dict[str, ContactReport] = {}
    for slug, tenant in sorted(tenants.items()):
        report = reports.setdefault(slug, ContactReport())
        for item in questions or contact_questions():
            expected = channels_to_answer(tuple(item["channels"]), tenant.contact)
            if item["channels"] and not expected:
                report.not_filled_in += 1
                continue
            answer = service.answer(tenant, item["question"], language=item.get("language"))
            from_details = answer.reason == "contact"
            if not item["channels"]:
                report.topic_asked += 1
                report.topic_kept += not from_details
                if from_details:
                    report.failures.append({"tenant": slug, "id": item["id"], "answer": answer.text})
                continue
            report.asked += 1
            text = shown_text(answer.text)
            given = all(contains(text, d) for d in _details(tenant.contact, expected))
            cited = [page_text.get(index.page_of(s.url), "") for s in answer.sources]
            sourced = any(
                any(_publishes(page, detail) for detail in _details(tenant.contact, expected))
                for page in cited
            )
            report.from_details += from_details
            report.details_given += from_details and given
            report.sourced += from_details and sourced
            if not (from_details and given and sourced):
                report.failures.append(
                    {"tenant": slug, "id": item["id"], "reason": answer.reason, "answer": answer.text}
                )
    return reports


def _publishes(page: str, detail: str) -> bool:
    """A page gives a detail: as written, or a number or clock times written with other separators."""
    if contains(page, detail):
        return True
    digits = re.sub(r"\D", "", detail)
    return len(digits) >= 5 and digits in re.sub(r"(?<=\d)[ .:-]+(?=\d)", "", page)


def summed(reports: dict[str, ContactReport], members: set[str] | None = None) -> ContactReport:
    total = ContactReport()
    for slug, report in reports.items():
        if members is None or slug in members:
            total.add(report)
    return total
