"""Greedy decoding for the in-process model, with drafts copied from the prompt.

A model answering from its sources mostly copies them: after "Een paspoort" the prompt already holds
"voor volwassenen kost € 75,80". The tokens that follow the latest matching words in the prompt (or in
the answer so far) are offered as a draft; the model checks the whole draft in one forward pass and
keeps it up to the first token it would not have chosen itself. The text is exactly the model's own
greedy choice.

Whether drafts pay depends on the machine. Where reading the weights from memory is the bottleneck, a
pass over 5 tokens costs about 1.6 passes over one, and a copied phrase comes out several tokens at a
time. Where the arithmetic is the bottleneck, a pass over 5 tokens costs 4 passes over one and drafts
only slow the answer down. So the decoder times its passes (``calibrate`` at warm-up; without it, the
first pass of each size) and counts how many drafted tokens the model keeps, and drafts only as far as
that is expected to give more tokens per second.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Generator, Sequence
from typing import Protocol

# Longest draft checked in one pass, and the shortest match that earns a draft (a single matching
# token guesses too often wrong).
MAX_DRAFT = 4
MIN_MATCH = 2
MAX_MATCH = 3
# How often the i-th drafted token is kept, given that the ones before it were, before the decoder has
# counted its own (measured: Qwen2.5-Coder-1.5B on the demo questions); and how many drafts it weighs.
KEPT_PRIOR = (0.79, 0.80, 0.81, 0.89)
PRIOR_WEIGHT = 20
# Drafts must promise this much more speed than plain decoding: the estimate flatters them (measured
# on the demo questions: 5% slower expected for drafts of 4, 17% slower found), and where they only
# break even the choice would flip with the noise of a calibration.
DRAFT_MARGIN = 1.15
# Prompt beginnings kept evaluated (one per tenant's system prompt, about 11 MB each for the 1.5B model):
# a follow-up's rewrite prompt or another tenant's question no longer costs the next answer seconds.
MAX_REMEMBERED = 8
# Whole recent prompts kept evaluated (about 14 MB each, so 450 MB): a question whose sources were in a
# recent prompt (residents ask about the same few topics) only has its question read, not its sources.
MAX_RECENT = 32

Memory = OrderedDict[tuple[int, ...], bytes]  # evaluated prompts by their tokens, oldest use first


class Engine(Protocol):
    """The model as far as decoding needs it: a key/value cache of the tokens it has seen."""

    def forward(self, tokens: Sequence[int], start: int, every_position: bool) -> list[int]:
        """Feed ``tokens`` at cache positions ``start``…; the greedy next token after each fed token
        (``every_position``) or only after the last."""
        ...

    def forget_from(self, position: int) -> None:
        """Drop the cache from ``position`` on."""
        ...

    def is_end(self, token: int) -> bool: ...

    def snapshot(self) -> bytes:
        """The cache's current contents."""
        ...

    def restore(self, state: bytes) -> None:
        """Replace the cache's contents with a snapshot."""
        ...


def draft(sequence: Sequence[int], max_draft: int = MAX_DRAFT) -> list[int]:
    """The tokens that followed the latest earlier occurrence of the sequence's last words."""
    for size in range(MAX_MATCH, MIN_MATCH - 1, -1):
        if len(sequence) <= size:
            continue
        tail = list(sequence[-size:])
        for start in range(len(sequence) - size - 1, -1, -1):
            if list(sequence[start : start + size]) == tail:
                return list(sequence[start + size : start + size + max_draft])
    return []


class DraftingDecoder:
    """Greedy decoding over one engine. It knows what the cache holds, so a prompt that starts like the
    previous one is only evaluated from where it differs, and it remembers evaluated prompt beginnings
    (``prefill``, kept) and recent whole prompts (kept while they are recent) to restore when a prompt
    starts like one of them."""

    def __init__(self, engine: Engine, max_draft: int = MAX_DRAFT) -> None:
        self.engine = engine
        self.max_draft = max_draft
        self.cached: list[int] = []
        self.remembered: Memory = OrderedDict()
        self.recent: Memory = OrderedDict()
        self.pass_ms: dict[int, float] = {}  # measured cost of a forward pass, by number of tokens
        # offered[i]: drafts of more than i tokens; kept[i]: of those, how many kept token i as well
        self.offered = [0] * max_draft
        self.kept = [0] * max_draft
        self.drafted = 0

    @property
    def accepted(self) -> int:
        """Drafted tokens the model kept."""
        return sum(self.kept)

    def remembers(self, prefix: Sequence[int]) -> bool:
        return tuple(prefix) in self.remembered

    def prefill(self, prefix: Sequence[int]) -> None:
        """Evaluate a prompt beginning and remember it."""
        common = self._reuse(prefix)
        if common < len(prefix):
            self.engine.forward(prefix[common:], common, every_position=False)
            self.cached = list(prefix)
        _keep(self.remembered, tuple(prefix), self.engine.snapshot(), MAX_REMEMBERED)

    def calibrate(self, tokens: Sequence[int], repeats: int = 3) -> None:
        """Time passes of 1 to 1 + ``max_draft`` tokens after what the cache holds (then forget them),
        so the first answer already drafts as far as pays on this machine."""
        start = len(self.cached)
        for size in range(1, self.max_draft + 2):
            fed = list(tokens[:size])
            if len(fed) < size:
                break
            timings = []
            for _ in range(repeats):
                began = time.perf_counter()
                self.engine.forward(fed, start, every_position=True)
                timings.append((time.perf_counter() - began) * 1000)
                self.engine.forget_from(start)
            self.pass_ms[size] = sorted(timings)[len(timings) // 2]

    def draft_length(self) -> int:
        """The draft length expected to give the most tokens per second, by ``DRAFT_MARGIN`` more than
        no drafts: a pass over 1 + k tokens yields 1 token plus each drafted token the model keeps, and
        costs what passes of that size cost."""
        if not self.max_draft:
            return 0
        sizes = range(1, self.max_draft + 2)
        if any(size not in self.pass_ms for size in sizes):
            return self.max_draft  # not timed yet: drafting times both kinds of pass
        best, best_rate = 0, DRAFT_MARGIN / self.pass_ms[1]
        expected, chance = 1.0, 1.0
        for k in range(1, self.max_draft + 1):
            prior = KEPT_PRIOR[min(k, len(KEPT_PRIOR)) - 1]
            chance *= (self.kept[k - 1] + prior * PRIOR_WEIGHT) / (self.offered[k - 1] + PRIOR_WEIGHT)
            expected += chance
            rate = expected / self.pass_ms[1 + k]
            if rate > best_rate:
                best, best_rate = k, rate
        return best

    def generate(self, prompt: Sequence[int], max_tokens: int) -> Generator[int, None, None]:
        if not prompt:
            raise ValueError("empty prompt")
        common = self._reuse(prompt)
        if common == len(prompt):  # the last prompt token is fed again for its prediction
            common -= 1
            self._forget_from(common)
        following = self.engine.forward(prompt[common:], common, every_position=False)[-1]
        self.cached = list(prompt)
        produced = 0
        length = self.draft_length()
        try:  # the prompt is evaluated from here on, so it can be remembered however the answer ends
            while produced < max_tokens and not self.engine.is_end(following):
                yield following
                produced += 1
                if produced >= max_tokens:
                    return
                guess = draft([*self.cached, following], length)[: max_tokens - produced] if length else []
                start = len(self.cached)
                began = time.perf_counter()
                predicted = self.engine.forward([following, *guess], start, every_position=True)
                self._timed(1 + len(guess), (time.perf_counter() - began) * 1000)
                self.cached.extend([following, *guess])
                self.drafted += len(guess)
                following = predicted[-1]
                for position, token in enumerate(guess):
                    self.offered[position] += 1
                    if predicted[position] != token:
                        self._forget_from(start + 1 + position)
                        following = predicted[position]
                        break
                    self.kept[position] += 1
                    if self.engine.is_end(token):
                        return
                    yield token
                    produced += 1
        finally:
            self._remember_recent(prompt)

    def _remember_recent(self, prompt: Sequence[int]) -> None:
        """Keep the evaluated prompt; the answer after it is dropped first, as no later prompt starts
        with it, and it would only make the snapshot larger."""
        key = tuple(prompt)
        if key in self.recent:
            self.recent.move_to_end(key)
            return
        self._forget_from(len(prompt))
        _keep(self.recent, key, self.engine.snapshot(), MAX_RECENT)

    def _timed(self, size: int, ms: float) -> None:
        # Only sizes not timed yet: passes of the size in use would otherwise follow the machine's
        # momentary load while the others keep their calibrated cost, and tip the choice by chance.
        self.pass_ms.setdefault(size, ms)

    def _reuse(self, prompt: Sequence[int]) -> int:
        """How much of ``prompt`` the cache holds, after restoring the remembered beginning or recent
        prompt that shares most with it when that beats what the cache holds now."""
        common = _shared(self.cached, prompt)
        best, best_shared, kept_in = None, common, self.remembered
        for memory in (self.remembered, self.recent):
            for prefix in memory:
                shared = _shared(prefix, prompt)
                if shared > best_shared:
                    best, best_shared, kept_in = prefix, shared, memory
        if best is not None:
            self.engine.restore(kept_in[best])
            self.cached = list(best)
            kept_in.move_to_end(best)
            common = best_shared
        self._forget_from(common)
        return common

    def _forget_from(self, position: int) -> None:
        self.engine.forget_from(position)
        del self.cached[position:]


def _keep(memory: Memory, key: tuple[int, ...], state: bytes, limit: int) -> None:
    memory[key] = state
    memory.move_to_end(key)
    while len(memory) > limit:
        memory.popitem(last=False)


def _shared(first: Sequence[int], second: Sequence[int]) -> int:
    count = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        count += 1
    return count
