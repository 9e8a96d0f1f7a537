"""Evaluation sets: JSONL questions with gold pages, and a site folder indexed per tenant.

The format is that of the project's demo set (``demo/questions.jsonl``) and of external sets with
one folder per tenant (``sites/<tenant>/*.html``): gold pages are paths relative to the sites
folder (``rotterdam/paspoort.html``) or, for a single-tenant set, to the tenant's folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from virtuele_assistent.ingest.pipeline import IngestSummary
from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings
from virtuele_assistent.tenants.schemas import TenantCreate, TenantProfile
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


def tenant_groups(slugs: list[str], kept_aside: list[str]) -> dict[str, set[str]]:
    """The summary groups of an evaluation: the tenants tuned on and those kept aside from tuning.
    Empty when nothing is kept aside; a kept-aside tenant without questions is an error."""
    unknown = sorted(set(kept_aside) - set(slugs))
    if unknown:
        raise ValueError(f"tenant kept aside has no questions: {', '.join(unknown)}")
    if not kept_aside:
        return {}
    return {"tuned": set(slugs) - set(kept_aside), "kept aside": set(kept_aside)}


def select_tenants(items: list[dict[str, Any]], tenants: list[str] | None) -> list[dict[str, Any]]:
    """The items asked to these tenants (all items when ``tenants`` is empty)."""
    return [i for i in items if not tenants or i.get("tenant") in tenants]


# What an evaluation index depends on besides the pages: the code that turns a page into indexed
# chunks, and the embedding model. A change to either builds the index again.
INDEX_CODE = ("extract", "chunking", "index", "ingest", "sentences.py")
INDEX_MARKER = "eval-index.json"


def index_fingerprint(settings: Settings) -> str:
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for name in (
        settings.embedder,
        settings.embeddings_model,
        settings.embeddings_url or "",
        settings.vector_engine,
    ):
        digest.update(name.encode() + b"\0")
    for folder in INDEX_CODE:
        paths = [package / folder] if folder.endswith(".py") else sorted((package / folder).rglob("*"))
        for path in paths:
            if path.is_file() and path.suffix in (".py", ".txt", ".json"):
                digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def prepare_index_dir(folder: Path, fingerprint: str) -> bool:
    """Make ``folder`` ready to hold an evaluation index; True when it already holds one built by the
    same code and model (its unchanged pages are then not indexed again). An index built otherwise
    is removed; a folder with other files in it is refused rather than emptied."""
    marker = folder / INDEX_MARKER
    if folder.is_dir() and any(folder.iterdir()):
        if not marker.is_file():
            raise ValueError(f"{folder} is not empty and holds no evaluation index; choose another folder")
        try:
            reusable = json.loads(marker.read_text(encoding="utf-8")).get("fingerprint") == fingerprint
        except (json.JSONDecodeError, AttributeError):
            reusable = False
        if reusable:
            return True
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"fingerprint": fingerprint}) + "\n", encoding="utf-8")
    return False


@dataclass
class EvalRun:
    """Services on an evaluation index with the set's sites indexed."""

    services: Services
    index: EvalIndex
    profiles: dict[str, TenantProfile]
    reused: bool  # the index folder held an index of the same code and model
    index_seconds: float


def eval_settings(base: Settings, data_dir: Path) -> Settings:
    """The embedded profile on ``data_dir``: SQLite and local vectors, whatever ``base`` points at,
    with its embedder and answer settings."""
    return base.model_copy(
        update={
            "profile": "embedded",
            "data_dir": data_dir,
            "database_url": None,
            "qdrant_url": None,
            "redis_url": None,
            "log_level": "WARNING",
        }
    )


def open_eval_index(
    base: Settings, sites: Path, tenants: list[str], index_dir: Path | None = None
) -> contextlib.AbstractContextManager[EvalRun]:
    """Index ``sites`` (every tenant folder, so that wrong-tenant questions meet the other tenants'
    pages) on ``index_dir``, or on a temporary folder that is removed afterwards. A folder that
    cannot hold the index raises ``ValueError`` here, before anything is opened."""
    reused = prepare_index_dir(index_dir, index_fingerprint(base)) if index_dir is not None else False
    return _eval_index(base, sites, tenants, index_dir, reused)


@contextlib.contextmanager
def _eval_index(
    base: Settings, sites: Path, tenants: list[str], index_dir: Path | None, reused: bool
) -> Iterator[EvalRun]:
    with contextlib.ExitStack() as stack:
        folder = index_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="va-eval-")))
        services = Services(eval_settings(base, folder))
        stack.callback(services.close)
        started = time.perf_counter()
        has_folders = any(p.is_dir() for p in sites.iterdir())
        index = index_sites(services, sites, None if has_folders else tenants[:1])
        seconds = round(time.perf_counter() - started, 1)
        profiles = {slug: get_profile(services.db, slug) for slug in index.tenant_ids}
        yield EvalRun(services, index, profiles, reused, seconds)
