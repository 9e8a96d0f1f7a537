"""Unit embeddings kept in the database: a restarted service, or another worker, does not embed a
page's sentences again (the first question on a page after a restart cost 260-530 ms of embedding).

Keys are hashes of the embedding model's name and the unit's text, so a changed page or another model
simply misses. Each vector goes with the chunk it was embedded for (a foreign key, ON DELETE CASCADE),
so the table holds no more than the indexed pages. Failures cost only time: the units are embedded as
if nothing had been kept.
"""

from __future__ import annotations

import hashlib

import numpy as np
import structlog
from sqlalchemy.exc import SQLAlchemyError

from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.repositories import UnitVectorRepository

log = structlog.get_logger(__name__)


class StoredUnitVectors:
    def __init__(self, db: Database, model: str, dim: int) -> None:
        self.db = db
        self.model = model
        self.dim = dim

    def key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model}\n{text}".encode()).hexdigest()

    def load(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The kept vectors of these texts, by text."""
        keys = {self.key(text): text for text in texts}
        try:
            with self.db.session() as session:
                rows = UnitVectorRepository(session).get(list(keys))
        except SQLAlchemyError as error:
            log.warning("unit_vectors.load_failed", error=str(error))
            return {}
        found = {}
        for key, data in rows.items():
            vector = np.frombuffer(data, dtype=np.float32)
            if vector.shape == (self.dim,):
                found[keys[key]] = vector
        return found

    def save(self, vectors: dict[str, np.ndarray], chunk_ids: dict[str, str]) -> None:
        """Keep the vectors, by text, each with the id of the chunk its unit was taken from."""
        items = {
            self.key(text): (np.asarray(vector, dtype=np.float32).tobytes(), chunk_ids[text])
            for text, vector in vectors.items()
        }
        try:
            with self.db.session() as session:
                UnitVectorRepository(session).add_new(items)
        except SQLAlchemyError as error:  # another worker stored them first, a page just changed, no database
            log.warning("unit_vectors.save_failed", error=str(error))
