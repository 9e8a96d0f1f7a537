"""The crawler's way into the index: the Indexer, per tenant and source."""

from __future__ import annotations

from virtuele_assistent.ingest.pipeline import Indexer


class IndexSink:
    def __init__(self, indexer: Indexer, tenant_id: int, source_id: int | None) -> None:
        self.indexer = indexer
        self.tenant_id = tenant_id
        self.source_id = source_id

    def process(
        self, url: str, data: bytes, content_type: str | None, etag: str | None, last_modified: str | None
    ) -> tuple[str, str | None]:
        outcome = self.indexer.index_document(
            self.tenant_id, url, data, content_type, self.source_id, etag, last_modified
        )
        return outcome.status, outcome.reason

    def remove(self, url: str) -> bool:
        return self.indexer.remove_document(self.tenant_id, url).status == "removed"
