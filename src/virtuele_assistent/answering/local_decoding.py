"""Greedy decoding for the in-process model, with drafts copied from the prompt.

A model answering from its sources mostly copies them: after "Een paspoort" the prompt already holds
"voor volwassenen kost € 75,80". The tokens that follow the latest matching words in the prompt (or in
the answer so far) are offered as a draft; the model checks the whole draft in one forward pass and
keeps it up to the first token it would not have chosen itself. On a CPU a pass over a few tokens
costs little more than a pass over one (the time goes to reading the weights), so a copied phrase
comes out several tokens at a time. The text is exactly the model's own greedy choice.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Protocol

# Longest draft checked in one pass, and the shortest match that earns a draft: on 2 cores a pass over
# 5 tokens costs about 1.6 passes over one, and a single matching token guesses too often wrong.
MAX_DRAFT = 4
MIN_MATCH = 2
MAX_MATCH = 3
# Prompt beginnings kept evaluated (one per tenant's system prompt, about 11 MB each for the 1.5B model):
# a follow-up's rewrite prompt or another tenant's question no longer costs the next answer seconds.
MAX_REMEMBERED = 8


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
    previous one is only evaluated from where it differs, and it remembers a few evaluated prompt
    beginnings (``prefill``) to restore when a prompt starts like one of them."""

    def __init__(self, engine: Engine, max_draft: int = MAX_DRAFT) -> None:
        self.engine = engine
        self.max_draft = max_draft
        self.cached: list[int] = []
        self.remembered: OrderedDict[tuple[int, ...], bytes] = OrderedDict()
        self.drafted = 0
        self.accepted = 0

    def remembers(self, prefix: Sequence[int]) -> bool:
        return tuple(prefix) in self.remembered

    def prefill(self, prefix: Sequence[int]) -> None:
        """Evaluate a prompt beginning and remember it."""
        common = self._reuse(prefix)
        if common < len(prefix):
            self.engine.forward(prefix[common:], common, every_position=False)
            self.cached = list(prefix)
        key = tuple(prefix)
        self.remembered[key] = self.engine.snapshot()
        self.remembered.move_to_end(key)
        while len(self.remembered) > MAX_REMEMBERED:
            self.remembered.popitem(last=False)

    def generate(self, prompt: Sequence[int], max_tokens: int) -> Iterator[int]:
        if not prompt:
            raise ValueError("empty prompt")
        common = self._reuse(prompt)
        if common == len(prompt):  # the last prompt token is fed again for its prediction
            common -= 1
            self._forget_from(common)
        following = self.engine.forward(prompt[common:], common, every_position=False)[-1]
        self.cached = list(prompt)
        produced = 0
        while produced < max_tokens and not self.engine.is_end(following):
            yield following
            produced += 1
            if produced >= max_tokens:
                return
            guess = draft([*self.cached, following], self.max_draft)[: max_tokens - produced]
            start = len(self.cached)
            predicted = self.engine.forward([following, *guess], start, every_position=True)
            self.cached.extend([following, *guess])
            self.drafted += len(guess)
            following = predicted[-1]
            for position, token in enumerate(guess):
                if predicted[position] != token:
                    self._forget_from(start + 1 + position)
                    following = predicted[position]
                    break
                if self.engine.is_end(token):
                    return
                self.accepted += 1
                yield token
                produced += 1

    def _reuse(self, prompt: Sequence[int]) -> int:
        """How much of ``prompt`` the cache holds, after restoring the remembered beginning that
        shares most with it when that beats what the cache holds now."""
        common = _shared(self.cached, prompt)
        best, best_shared = None, common
        for prefix in self.remembered:
            shared = _shared(prefix, prompt)
            if shared > best_shared:
                best, best_shared = prefix, shared
        if best is not None:
            self.engine.restore(self.remembered[best])
            self.cached = list(best)
            self.remembered.move_to_end(best)
            common = best_shared
        self._forget_from(common)
        return common

    def _forget_from(self, position: int) -> None:
        self.engine.forget_from(position)
        del self.cached[position:]


def _shared(first: Sequence[int], second: Sequence[int]) -> int:
    count = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        count += 1
    return count
