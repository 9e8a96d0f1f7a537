"""Greedy decoding with drafts copied from the prompt, against a small table model.

Tokens are words here. The table model knows, for each pair of words, the word it writes next; the
decoder must write exactly what plain greedy decoding writes, in fewer forward passes when the answer
copies the prompt.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from virtuele_assistent.answering.local_decoding import DraftingDecoder, draft

END = "<einde>"


def words(text: str) -> list[str]:
    return text.split()


SOURCE = words("BRONNEN : een paspoort voor volwassenen kost € 75,80 . VRAAG : wat kost een paspoort ?")
ANSWER = words("een paspoort voor volwassenen kost € 75,80 .")


class TableModel:
    """A key/value cache of words, and a next-word table keyed by the last two words."""

    def __init__(self, table: dict[tuple[str, str], str]) -> None:
        self.table = table
        self.cache: list[str] = []
        self.passes: list[tuple[int, int]] = []  # (start, number of tokens) per forward pass

    def next_word(self, seen: Sequence[str]) -> str:
        return self.table.get((seen[-2], seen[-1]), END) if len(seen) >= 2 else END

    def forward(self, tokens: Sequence[str], start: int, every_position: bool) -> list[str]:
        assert start == len(self.cache), "the decoder must feed tokens where the cache ends"
        self.cache.extend(tokens)
        self.passes.append((start, len(tokens)))
        picks = [self.next_word(self.cache[: start + i + 1]) for i in range(len(tokens))]
        return picks if every_position else picks[-1:]

    def forget_from(self, position: int) -> None:
        del self.cache[position:]

    def is_end(self, token: str) -> bool:
        return token == END

    def snapshot(self) -> list[str]:
        return list(self.cache)

    def restore(self, state: list[str]) -> None:
        self.cache = list(state)


def answering_model(answer: list[str]) -> TableModel:
    """A model that, after the question, writes ``answer`` and stops."""
    table = {("paspoort", "?"): answer[0]}
    words = ["?", *answer]
    for i in range(1, len(answer)):
        table[(words[i - 1], words[i])] = answer[i]
    return TableModel(table)


def plain_greedy(model: TableModel, prompt: list[str], max_tokens: int) -> list[str]:
    seen, out = list(prompt), []
    while len(out) < max_tokens:
        word = model.next_word(seen)
        if word == END:
            break
        out.append(word)
        seen.append(word)
    return out


def test_draft_is_what_followed_the_latest_match() -> None:
    sequence = words("a b c d a b x y a b")
    assert draft(sequence, 2) == ["x", "y"]  # the latest earlier "a b" wins
    assert draft(words("a b c d e")) == []  # "d e" occurs nowhere before


def test_copied_answer_is_the_greedy_answer_in_fewer_passes() -> None:
    model = answering_model(ANSWER)
    decoder = DraftingDecoder(model, max_draft=4)
    written = list(decoder.generate(SOURCE, 50))
    assert written == plain_greedy(answering_model(ANSWER), SOURCE, 50) == ANSWER
    generation_passes = len(model.passes) - 1  # the first pass reads the prompt
    assert generation_passes <= len(ANSWER) // 2  # plain greedy decoding needs one pass per word
    assert decoder.accepted > 0


def test_answer_that_leaves_the_prompt_is_still_exact() -> None:
    answer = words("een paspoort kost € 75,80 en een id-kaart is goedkoper .")
    model = answering_model(answer)
    decoder = DraftingDecoder(model, max_draft=4)
    assert list(decoder.generate(SOURCE, 50)) == answer
    assert decoder.accepted < decoder.drafted  # some drafts were wrong and thrown away
    # what the cache holds is exactly what the decoder believes it holds
    assert model.cache[: len(decoder.cached)] == decoder.cached


def test_max_tokens_holds_with_drafts() -> None:
    decoder = DraftingDecoder(answering_model(ANSWER), max_draft=4)
    assert list(decoder.generate(SOURCE, 3)) == ANSWER[:3]


def test_next_prompt_is_read_from_where_it_differs() -> None:
    model = answering_model(ANSWER)
    decoder = DraftingDecoder(model)
    list(decoder.generate(SOURCE, 50))
    other = [*SOURCE[:-4], "wat", "kost", "een", "id-kaart", "?"]
    model.passes.clear()
    list(decoder.generate(other, 5))
    start, count = model.passes[0]
    assert start == len(SOURCE) - 4  # the shared beginning stayed in the cache
    assert count == 5


def test_a_remembered_beginning_is_restored_after_another_prompt() -> None:
    model = answering_model(ANSWER)
    decoder = DraftingDecoder(model)
    system = words("BRONNEN : een paspoort voor volwassenen kost € 75,80 .")
    decoder.prefill(system)
    list(decoder.generate(words("herschrijf de vraag : en voor een kind ?"), 5))  # evicts the cache
    model.passes.clear()
    assert list(decoder.generate(SOURCE, 50)) == ANSWER
    start, count = model.passes[0]
    assert start == len(system)  # the system part came back from the snapshot, not from a pass
    assert count == len(SOURCE) - len(system)
    assert model.cache[: len(decoder.cached)] == decoder.cached


def test_a_recent_prompt_is_restored_so_only_the_new_question_is_read() -> None:
    model = answering_model(ANSWER)
    decoder = DraftingDecoder(model)
    list(decoder.generate(SOURCE, 50))
    list(decoder.generate(words("herschrijf de vraag : en voor een kind ?"), 5))  # evicts the cache
    again = [*SOURCE[:-4], "hoeveel", "kost", "een", "paspoort", "?"]
    model.passes.clear()
    list(decoder.generate(again, 5))
    start, count = model.passes[0]
    assert start == len(SOURCE) - 4  # the sources came back with the recent prompt
    assert count == 5
    assert model.cache[: len(decoder.cached)] == decoder.cached


def test_drafts_only_as_far_as_the_measured_pass_costs_make_pay() -> None:
    decoder = DraftingDecoder(answering_model(ANSWER), max_draft=4)
    assert decoder.draft_length() == 4  # passes not timed yet
    decoder.pass_ms = {1: 70.0, 2: 75.0, 3: 85.0, 4: 100.0, 5: 112.0}  # reading weights from memory
    assert decoder.draft_length() == 4
    decoder.pass_ms = {1: 30.0, 2: 60.0, 3: 82.0, 4: 101.0, 5: 125.0}  # arithmetic-bound machine
    assert decoder.draft_length() == 0
    decoder.pass_ms = {1: 33.3, 2: 56.6, 3: 76.1, 4: 92.2, 5: 114.1}  # drafts would about break even
    assert decoder.draft_length() == 0
    decoder.offered = [1000] * 4  # drafts the model always keeps pay even there
    decoder.kept = [1000] * 4
    assert decoder.draft_length() == 4


def test_without_drafts_the_answer_is_the_same_one_token_per_pass() -> None:
    model = answering_model(ANSWER)
    decoder = DraftingDecoder(model, max_draft=4)
    decoder.pass_ms = {1: 30.0, 2: 60.0, 3: 82.0, 4: 101.0, 5: 125.0}
    assert list(decoder.generate(SOURCE, 50)) == ANSWER
    assert all(count == 1 for _, count in model.passes[1:])
    assert decoder.drafted == 0


def test_calibration_times_every_pass_size_and_leaves_the_cache_as_it_was() -> None:
    model = answering_model(ANSWER)
    decoder = DraftingDecoder(model, max_draft=4)
    decoder.prefill(SOURCE[:5])
    decoder.calibrate(SOURCE)
    assert sorted(decoder.pass_ms) == [1, 2, 3, 4, 5]
    assert model.cache == decoder.cached == SOURCE[:5]
    assert list(decoder.generate(SOURCE, 50)) == ANSWER


def test_local_model_writes_what_plain_greedy_decoding_writes() -> None:
    """With the local model installed (``make local-llm``): the same text as llama.cpp's own loop."""
    pytest.importorskip("llama_cpp")
    from virtuele_assistent.answering.llm import LocalChatModel
    from virtuele_assistent.answering.local_model import default_model_path

    if not default_model_path().is_file():
        pytest.skip("local model not installed")
    model = LocalChatModel(default_model_path())
    messages = [
        {"role": "system", "content": "Beantwoord de vraag met de bron. Schrijf korte zinnen."},
        {
            "role": "user",
            "content": "BRON: Een paspoort voor volwassenen kost € 75,80. Het is 10 jaar geldig.\n"
            "VRAAG: Wat kost een paspoort en hoe lang is het geldig?",
        },
    ]
    drafted = "".join(model.stream(messages, 40, time.monotonic() + 120))
    plain = model._llama.create_chat_completion(messages=messages, max_tokens=40, temperature=0.0)  # type: ignore[arg-type]
    assert drafted == plain["choices"][0]["message"]["content"]  # type: ignore[index]
    assert "75,80" in drafted
