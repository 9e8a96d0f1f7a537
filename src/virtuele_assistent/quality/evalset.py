"""Evaluation sets: JSONL questions with gold pages, and a site folder indexed per tenant.

The format is that of the project's demo set (``demo/questions.jsonl``) and of external sets with
one folder per tenant (``sites/<tenant>/*.html``): gold pages are paths relative to the sites
folder (``rotterdam/paspoort.html``) or, for a single-tenant set, to the tenant's folder.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from virtuele_assistent.ingest.pipeline import IngestSummary
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import TenantCreate
from virtuele_assistent.tenants.service import TenantExists, create_tenant, get_profile

EVAL_BASE_URL = "http://eval.local/"


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not valid JSON ({error.msg})") from None
    return items


@dataclass
class EvalIndex:
    """Tenants of an evaluation set, indexed; maps result URLs back to gold page names."""

    tenant_ids: dict[str, int] = field(default_factory=dict)
    summaries: dict[str, IngestSummary] = field(default_factory=dict)
    base_url: str = EVAL_BASE_URL
    single_tenant: str | None = None

    def page_of(self, url: str) -> str:
        """'http://eval.local/rotterdam/a.html' -> 'rotterdam/a.html' (or 'a.html' single-tenant)."""
        page = url.removeprefix(self.base_url)
        if self.single_tenant:
            page = page.removeprefix(self.single_tenant + "/")
        return page


def index_sites(
    services: Services, sites: Path, tenants: list[str] | None = None, base_url: str = EVAL_BASE_URL
) -> EvalIndex:
    """Create one tenant per sub-folder of ``sites`` (or ``sites`` itself as the tenant in
    ``tenants[0]`` when it has no sub-folders) and index its pages under ``base_url``."""
    services.db.upgrade()
    folders = sorted(p for p in sites.iterdir() if p.is_dir())
    index = EvalIndex(base_url=base_url)
    if not folders:
        if not tenants or len(tenants) != 1:
            raise ValueError("a folder without tenant sub-folders needs exactly one tenant name")
        folders_by_slug = {tenants[0]: sites}
        index.single_tenant = tenants[0]
    else:
        folders_by_slug = {p.name: p for p in folders if tenants is None or p.name in tenants}
    for slug, folder in folders_by_slug.items():
        with contextlib.suppress(TenantExists):
            create_tenant(services.db, TenantCreate(slug=slug, name=f"Gemeente {slug.title()}"), actor="eval")
        tenant_id = get_profile(services.db, slug).id
        index.tenant_ids[slug] = tenant_id
        index.summaries[slug] = services.indexer.ingest_path(tenant_id, folder, f"{base_url}{slug}/")
    return index


def page_texts(sites: Path, index: EvalIndex) -> dict[str, str]:
    """Extracted text of every page, by the page name gold_docs use (for citation checks)."""
    from virtuele_assistent.extract.document import ExtractionError, extract

    texts: dict[str, str] = {}
    for path in sorted(sites.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in (".html", ".htm", ".md"):
            continue
        relative = path.relative_to(sites).as_posix()
        try:
            texts[relative] = extract(path.read_bytes(), index.base_url + relative).text
        except ExtractionError:
            continue
    return texts
