"""Distractors for the retrieval scale test.

Each tenant's pages are hidden among many other chunks:
- the same sites again under other tenant ids (they must never be returned: tenant filter);
- generated Dutch municipal pages (``quality.synthetic``) under every evaluated tenant, so that
  together about ``count`` extra chunks are added. The generated pages are the same for all
  tenants, so their vectors are embedded once and reused by content hash.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from virtuele_assistent.quality.evalset import EvalIndex
from virtuele_assistent.quality.synthetic import pages
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import TenantCreate
from virtuele_assistent.tenants.service import TenantExists, create_tenant, get_profile

SECTIONS_PER_PAGE = 5


def add_distractors(
    services: Services,
    index: EvalIndex,
    sites: Path,
    count: int,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    before = services.store.count()
    # 1. the evaluated sites again, as other municipalities
    for slug in index.tenant_ids:
        other = f"{slug}-kopie"
        with contextlib.suppress(TenantExists):
            create_tenant(services.db, TenantCreate(slug=other, name=f"Gemeente {other}"), actor="eval")
        folder = sites if index.single_tenant else sites / slug
        services.indexer.ingest_path(
            get_profile(services.db, other).id, folder, f"http://kopie.local/{other}/"
        )
    # 2. generated municipal pages under every evaluated tenant
    remaining = max(0, count - (services.store.count() - before))
    per_tenant_pages = max(1, -(-remaining // (SECTIONS_PER_PAGE * len(index.tenant_ids))))
    with tempfile.TemporaryDirectory(prefix="va-distractors-") as tmp:
        folder = Path(tmp)
        for page in pages(per_tenant_pages, sections=SECTIONS_PER_PAGE):
            (folder / f"{page.slug}.md").write_text(page.markdown, encoding="utf-8")
        embedded = 0
        for slug, tenant_id in index.tenant_ids.items():
            progress(f"  generated pages for {slug} ...")
            summary = services.indexer.ingest_path(tenant_id, folder, f"{index.base_url}{slug}/nieuws/")
            embedded += summary.counts.get("chunks_embedded", 0)
    per_tenant = {slug: services.store.count(tenant_id) for slug, tenant_id in index.tenant_ids.items()}
    return {
        "extra_chunks": services.store.count() - before,
        "chunks_per_tenant": per_tenant,
        "chunks_embedded": embedded,
    }
