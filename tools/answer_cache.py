"""The model's describe answers, remembered by what it was shown and asked.

The seed walkthrough's advice, measured in the house issue: a repeated describe of an unchanged
screen used to cost as much as the first (and a second model call). Answers are kept by a hash of
the screen's pixels, the question and the model; concurrent identical asks share one model call.
Failures are never remembered.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

import anyio
from PIL import Image

T = TypeVar("T")


def screen_key(image: Image.Image, *parts: Hashable) -> tuple[Hashable, ...]:
    """A key for ``image``'s pixels plus ``parts`` (the question, the model...); CPU-bound: call it in a thread."""
    digest = hashlib.blake2b(image.tobytes(), digest_size=16, person=f"{image.mode}{image.size}".encode()[:16])
    return (digest.digest(), *parts)


class AnswerCache(Generic[T]):
    """A bounded LRU of answers with in-flight sharing."""

    def __init__(self, capacity: int = 16) -> None:
        self.capacity = capacity
        self._done: OrderedDict[Hashable, T] = OrderedDict()
        self._pending: dict[Hashable, anyio.Event] = {}

    async def get_or_ask(self, key: Hashable, ask: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """The remembered answer for ``key`` (``True``), or ``ask()``'s, remembered (``False``)."""
        while True:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key], True
            pending = self._pending.get(key)
            if pending is None:
                break
            await pending.wait()  # the same question is on its way: share its answer (or ask again if it failed)
        done = anyio.Event()
        self._pending[key] = done
        try:
            answer = await ask()
            self._done[key] = answer
            while len(self._done) > self.capacity:
                self._done.popitem(last=False)
            return answer, False
        finally:
            del self._pending[key]
            done.set()
