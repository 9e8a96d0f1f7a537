"""A stand-in for the local model, run by ``model_process`` in its own process as the real one is.

What the next answer does is read from a file the test writes (and removed): ``kill`` (SIGKILL after
the first word, as the kernel's out-of-memory killer does), ``abort`` (``os.abort()``: SIGABRT, like a
failed assertion in llama.cpp), ``sigill`` (an illegal instruction), ``hang`` (no word, ever),
``report`` (it answers and says how many system prompts this process evaluated) or nothing (it
answers).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

ANSWER = "Een paspoort voor volwassenen kost € 84,50 [1]."


class ScriptedModel:
    name = "scripted"

    def __init__(self, script: str | Path, threads: int = 2, fail: bool = False) -> None:
        if fail:
            raise RuntimeError("model file is damaged")
        self.script = Path(script)
        self.primed = 0

    def prime(self, messages: list[dict[str, str]]) -> None:
        self.primed += 1

    def _next(self) -> str:
        try:
            order = self.script.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return ""
        self.script.unlink(missing_ok=True)
        return order

    def stream(self, messages: list[dict[str, str]], max_tokens: int, deadline: float) -> Iterator[str]:
        order = self._next()
        if order == "hang":
            time.sleep(3600)
        words = ANSWER.split(" ")
        yield words[0] + " "
        if order == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if order == "sigill":
            os.kill(os.getpid(), signal.SIGILL)
        if order == "abort":
            os.abort()
        for word in words[1:]:
            yield word + " "
        if order == "report":
            yield f"(primed {self.primed})"
