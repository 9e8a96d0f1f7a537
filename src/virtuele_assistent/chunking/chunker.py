"""Heading-aware chunking: a chunk never spans two sections; blocks (lists, tables) stay whole."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from virtuele_assistent.extract import ExtractedDocument
from virtuele_assistent.sentences import split_sentences

TARGET_TOKENS = 220
OVERLAP_TOKENS = 40
_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")


@dataclass
class ChunkDraft:
    position: int
    heading_path: str  # "Paspoort > Kosten"
    text: str  # the section text of this chunk, without the heading path

    @property
    def indexed_text(self) -> str:
        """What is embedded and keyword-indexed: the heading path makes the chunk stand alone."""
        return f"{self.heading_path}\n{self.text}" if self.heading_path else self.text

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.indexed_text.encode("utf-8")).hexdigest()

    @property
    def token_count(self) -> int:
        return estimate_tokens(self.indexed_text)


def estimate_tokens(text: str) -> int:
    # e5's tokenizer produces about 1.4 tokens per Dutch word.
    return int(len(text.split()) * 1.4) + 1


def chunk_document(doc: ExtractedDocument, target_tokens: int = TARGET_TOKENS) -> list[ChunkDraft]:
    drafts: list[ChunkDraft] = []
    for path, blocks in _sections(doc):
        for text in _pack(blocks, target_tokens):
            drafts.append(ChunkDraft(position=len(drafts), heading_path=path, text=text))
    return drafts


def _sections(doc: ExtractedDocument) -> list[tuple[str, list[str]]]:
    """Split Markdown into (heading path, blocks) per section; blocks are paragraphs/lists/tables."""
    title = doc.title.strip()
    stack: list[tuple[int, str]] = []
    sections: list[tuple[str, list[str]]] = []
    blocks: list[str] = []
    current: list[str] = []

    def path() -> str:
        names = [name for _, name in stack]
        if title and (not names or names[0] != title):
            names.insert(0, title)
        return " > ".join(names)

    def flush_block() -> None:
        if current:
            blocks.append("\n".join(current).strip())
            current.clear()

    def flush_section() -> None:
        flush_block()
        if any(b for b in blocks):
            sections.append((path(), [b for b in blocks if b]))
        blocks.clear()

    previous_kind = ""
    for line in doc.text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            flush_section()
            level = len(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading.group(2).strip("* ")))
            previous_kind = ""
            continue
        if not line.strip():
            flush_block()
            previous_kind = ""
            continue
        kind = (
            "list"
            if re.match(r"^\s*([-*+]|\d+[.)])\s", line)
            else "table"
            if line.lstrip().startswith("|")
            else "text"
        )
        # Keep a list or table together with the sentence that introduces it.
        if (
            previous_kind
            and kind != previous_kind
            and not (previous_kind == "text" and kind in ("list", "table"))
        ):
            if kind == "text" and previous_kind == "list" and not re.match(r"^\s", line) and current:
                current.append(line)  # continuation line of a list item
                continue
            flush_block()
        current.append(line)
        previous_kind = kind
    flush_section()
    return sections


def _pack(blocks: list[str], target: int) -> list[str]:
    """Group blocks into chunks of about ``target`` tokens, carrying the last block over as overlap."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for block in _split_oversized(blocks, target):
        tokens = estimate_tokens(block)
        if current and size + tokens > target:
            chunks.append("\n\n".join(current))
            tail = current[-1]
            current, size = (
                ([tail], estimate_tokens(tail)) if estimate_tokens(tail) <= OVERLAP_TOKENS else ([], 0)
            )
        current.append(block)
        size += tokens
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def _split_oversized(blocks: list[str], target: int) -> list[str]:
    out: list[str] = []
    for block in blocks:
        if estimate_tokens(block) <= target * 1.5:
            out.append(block)
            continue
        lines = block.splitlines()
        unit = lines if len(lines) > 1 else split_sentences(block)
        piece: list[str] = []
        for part in unit:
            if piece and estimate_tokens(" ".join(piece + [part])) > target:
                out.append("\n".join(piece) if len(lines) > 1 else " ".join(piece))
                piece = []
            piece.append(part)
        if piece:
            out.append("\n".join(piece) if len(lines) > 1 else " ".join(piece))
    return out
