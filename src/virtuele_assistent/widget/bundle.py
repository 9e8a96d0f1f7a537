"""The built widget (dist/widget.js), read once and re-read when the file changes."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

BUNDLE_PATH = Path(__file__).resolve().parent / "dist" / "widget.js"


class WidgetNotBuilt(FileNotFoundError):
    pass


@dataclass(frozen=True)
class _Loaded:
    mtime_ns: int
    body: bytes
    etag: str
    gzipped: bytes


class WidgetBundle:
    def __init__(self, path: Path = BUNDLE_PATH) -> None:
        self.path = path
        self._loaded: _Loaded | None = None

    def load(self) -> tuple[bytes, str]:
        """The bundle and its ETag; raises WidgetNotBuilt when it has not been built."""
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            raise WidgetNotBuilt(str(self.path)) from None
        loaded = self._loaded
        if loaded is None or loaded.mtime_ns != mtime:
            body = self.path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()[:32]
            loaded = _Loaded(mtime, body, f'"{digest}"', gzip.compress(body, compresslevel=9, mtime=0))
            self._loaded = loaded
        return loaded.body, loaded.etag

    def load_gzipped(self) -> tuple[bytes, str]:
        """The bundle compressed once with gzip, and that variant's own ETag."""
        _, etag = self.load()
        assert self._loaded is not None
        return self._loaded.gzipped, etag[:-1] + '-gz"'
