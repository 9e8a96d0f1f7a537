"""Greedy decoding for the in-process model, with drafts copied from the prompt.

A model answering from its sources mostly copies them: after "Een paspoort" the prompt already holds
"voor volwassenen kost € 75,80". The tokens that follow the latest matching words in the prompt (or in
the answer so far) are offered as a draft; the model checks the whole draft in one forward pass and
keeps it up to the first token it would not have chosen itself. On a CPU a pass over a few tokens
costs little more than a pass over one (the time goes to reading the weights), so a copied phrase
comes out several tokens at a time. The text is exactly the model's own greedy choice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

# Longest draft checked in one pass, and the shortest match that earns a draft: on 2 cores a pass over
# 5 tokens costs about 1.6 passes over one, and a single matching token guesses too often wrong.
MAX_DRAFT = 4
MIN_MATCH = 2
MAX_MATCH = 3


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
    """Greedy decoding over one engine; remembers what the cache holds, so a prompt that starts like
    the previous one (the same system prompt) is only evaluated from where it differs."""

    def __init__(self, engine: Engine, max_draft: int = MAX_DRAFT) -> None:
        self.engine = engine
        self.max_draft = max_draft
        self.cached: list[int] = []
        self.drafted = 0
        self.accepted = 0

    def generate(self, prompt: Sequence[int], max_tokens: int) -> Iterator[int]:
        if not prompt:
            raise ValueError("empty prompt")
        common = 0
        for held, wanted in zip(self.cached, prompt, strict=False):
            if held != wanted:
                break
            common += 1
        common = min(common, len(prompt) - 1)  # the last prompt token is fed again for its prediction
        self._forget_from(common)
        following = self.engine.forward(prompt[common:], common, every_position=False)[-1]
        self.cached = list(prompt)
        produced = 0
        while produced < max_tokens and not self.engine.is_end(following):
            yield following
            produced += 1
            guess = draft([*self.cached, following], self.max_draft)[: max(0, max_tokens - produced)]
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

    def _forget_from(self, position: int) -> None:
        self.engine.forget_from(position)
        del self.cached[position:]
