"""Dutch compound splitting: 'afvalstoffenheffing' -> afval + stoffen + heffing.

The parts come from a compact list shipped in ``data/nl_compound_parts.txt`` (derived from the
OpenTaal Dutch word list, see ``data/README.md``): words that often start a compound (heads, 'h')
and words that often end one (tails, 't'). A word is split when it can be written entirely as
heads (each optionally followed by a linking 's', 'e' or 'en') followed by one tail.

Regenerate the list with::

    python -m virtuele_assistent.index.compounds /usr/share/dict/nederlands
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "nl_compound_parts.txt"
MIN_WORD = 6  # shorter words are not split
MIN_PART = 3
MIN_TAIL = 4
LINKERS = ("", "s", "e", "en")
# Derivational suffixes that are also words ('baar' = stretcher, 'lijk' = corpse): never a tail.
SUFFIX_WORDS = frozenset(
    [
        "baar",
        "bare",
        "schap",
        "schappen",
        "loos",
        "loze",
        "heid",
        "heden",
        "lijk",
        "lijke",
        "achtig",
        "achtige",
        "zaam",
        "zame",
        "ling",
        "lingen",
    ]
)
# Verb prefixes that are also words ('ver' = far): 'verhuizen' is not 'ver' + 'huizen'.
PREFIX_WORDS = frozenset(["ver", "her", "ont"])


def fold(word: str) -> str:
    """Lowercase and strip accents: 'Één' -> 'een', 'café' -> 'cafe'."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class CompoundSplitter:
    def __init__(self, heads: Iterable[str], tails: Iterable[str]) -> None:
        self.heads = frozenset(heads) - PREFIX_WORDS
        self.tails = frozenset(tails) - SUFFIX_WORDS
        self._max_part = max((len(w) for w in self.heads | self.tails), default=0) + 2

    @classmethod
    def from_file(cls, path: Path = DATA_FILE) -> CompoundSplitter:
        heads: list[str] = []
        tails: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line or line.startswith("#"):
                continue
            word, _, roles = line.partition("\t")
            if "h" in roles:
                heads.append(word)
            if "t" in roles:
                tails.append(word)
        return cls(heads, tails)

    def split(self, word: str) -> list[str]:
        """The parts of a compound (without linking letters), or [] when it is not one.

        Parts that are compounds themselves are followed by their own parts:
        'afvalstoffenheffing' -> ['afvalstoffen', 'heffing', 'afval', 'stoffen'].
        """
        if len(word) < MIN_WORD:
            return []
        parts = list(self._split(word))
        for part in list(parts):
            parts.extend(p for p in self.split(part) if p not in parts)
        return parts

    @lru_cache(maxsize=200_000)  # noqa: B019 - one splitter per process; words repeat a lot
    def _split(self, word: str) -> tuple[str, ...]:
        best = self._search(word, 0)
        return best if best and len(best) > 1 else ()

    def _search(self, word: str, start: int) -> tuple[str, ...] | None:
        """Fewest parts, longest first part: heads (+ linker) ... + tail, covering ``word[start:]``."""
        rest = word[start:]
        if start > 0 and len(rest) >= MIN_TAIL and rest in self.tails:
            return (rest,)
        best: tuple[str, ...] | None = None
        for end in range(min(len(word) - MIN_TAIL, start + self._max_part), start + MIN_PART - 1, -1):
            head = word[start:end]
            if head not in self.heads:
                continue
            for linker in LINKERS:
                if linker and not word.startswith(linker, end):
                    continue
                tail = self._search(word, end + len(linker))
                if tail is not None and (best is None or len(tail) + 1 < len(best)):
                    best = (head, *tail)
            if best is not None and len(best) == 2:
                break
        return best


@lru_cache(maxsize=1)
def default_splitter() -> CompoundSplitter:
    return CompoundSplitter.from_file()


def build_parts(words: Iterable[str], min_compounds: int = 3, min_tail_share: float = 0.5) -> dict[str, str]:
    """Derive compound parts from a word list.

    A head is a word that starts at least ``min_compounds`` other words whose rest is a word
    (after an optional linker). A tail is a word that ends at least ``min_compounds`` words whose
    start is a word, and does so in at least ``min_tail_share`` of the words ending with it (this
    keeps out verb endings like 'eren' that merely look like words).
    """
    vocabulary = {f for w in words if w and w.islower() and re.fullmatch(r"[a-z]{3,}", f := fold(w))}

    def is_head(text: str) -> bool:
        return text in vocabulary or any(
            text.endswith(linker) and text[: -len(linker)] in vocabulary for linker in LINKERS if linker
        )

    def is_tail(text: str) -> bool:
        return text in vocabulary or any(
            text.startswith(linker) and text[len(linker) :] in vocabulary for linker in LINKERS if linker
        )

    ends_total: Counter[str] = Counter()
    ends_compound: Counter[str] = Counter()
    starts_compound: Counter[str] = Counter()
    for word in vocabulary:
        for cut in range(MIN_PART, len(word) - MIN_PART + 1):
            head, tail = word[:cut], word[cut:]
            if tail in vocabulary:
                ends_total[tail] += 1
                if is_head(head):
                    ends_compound[tail] += 1
            if head in vocabulary and is_tail(tail):
                starts_compound[head] += 1
    parts: dict[str, str] = {}
    for head, count in starts_compound.items():
        if count >= min_compounds:
            parts[head] = "h"
    for tail, count in ends_compound.items():
        if (
            count >= min_compounds
            and len(tail) >= MIN_TAIL
            and tail not in SUFFIX_WORDS
            and count / ends_total[tail] >= min_tail_share
        ):
            parts[tail] = parts.get(tail, "") + "t"
    return dict(sorted(parts.items()))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m virtuele_assistent.index.compounds WORDLIST", file=sys.stderr)
        return 2
    words = Path(argv[1]).read_text(encoding="utf-8").splitlines()
    parts = build_parts(words)
    header = (
        "# Dutch compound parts (h = head, t = tail), derived from the OpenTaal word list\n"
        "# (Debian package wdutch, /usr/share/dict/nederlands) by virtuele_assistent.index.compounds.\n"
        "# The word list has been modified (filtered). Licence: see README.md in this folder.\n"
    )
    DATA_FILE.write_text(header + "".join(f"{w}\t{r}\n" for w, r in parts.items()), encoding="utf-8")
    print(f"{len(parts)} parts written to {DATA_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
