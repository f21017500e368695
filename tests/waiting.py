"""Waiting for a condition with a deadline, never for a clock: the tests' one way to wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Deadline:
    """``timeout`` seconds from now; :meth:`check` fails, naming what did not happen, once they have passed."""

    def __init__(self, what: str | Callable[[], str], timeout: float) -> None:
        self.what, self.timeout = what, timeout
        self.at = time.monotonic() + timeout

    def check(self) -> None:
        if time.monotonic() > self.at:
            what = self.what if isinstance(self.what, str) else self.what()
            raise AssertionError(f"waited {self.timeout:g} s for {what}, in vain")


def wait_until(
    condition: Callable[[], object], what: str | Callable[[], str], *, timeout: float = 30, interval: float = 0.05
) -> None:
    """Return as soon as ``condition()`` is true; fail with ``what`` (a callable: asked at the failure) if
    it is still false after ``timeout`` seconds."""
    deadline = Deadline(what, timeout)
    while not condition():
        deadline.check()
        time.sleep(interval)


async def wait_until_async(
    condition: Callable[[], object], what: str | Callable[[], str], *, timeout: float = 30, interval: float = 0.05
) -> None:
    """:func:`wait_until` for a coroutine: the event loop runs while it waits."""
    deadline = Deadline(what, timeout)
    while not condition():
        deadline.check()
        await asyncio.sleep(interval)
