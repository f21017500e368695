"""flowscope in a pseudo-terminal, as a user runs it: what it draws is collected on a thread; keys go in."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.conftest import ROOT
from tests.waiting import wait_until

FLOWSCOPE = (sys.executable, "-m", "tui.cli")


class Terminal:
    def __init__(
        self,
        *args: str,
        command: Sequence[str] = FLOWSCOPE,
        size: tuple[int, int] = (40, 140),
        cwd: Path = ROOT,
        before_exec: Callable[[], None] | None = None,
    ) -> None:
        """Start ``command`` with ``args`` in a terminal of ``size`` (rows, columns)."""
        pid, fd = pty.fork()
        if pid == 0:  # the child: becomes flowscope
            os.environ["TERM"] = "xterm-256color"
            if before_exec is not None:
                before_exec()
            os.chdir(cwd)
            os.execv(command[0], [*command, *args])
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
        self.pid, self.fd = pid, fd
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                self.output += chunk

    def press(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def wait_for(self, text: bytes, timeout: float = 30) -> None:
        """Return as soon as ``text`` has been drawn."""
        wait_until(
            lambda: text in self.output,
            lambda: f"{text!r} to be shown: {bytes(self.output[-1500:])!r}",
            timeout=timeout,
        )

    def drawing(self, timeout: float = 30) -> None:
        """Return as soon as the program draws something new (it is not hung)."""
        drawn = len(self.output)
        wait_until(lambda: len(self.output) > drawn, "anything new to be drawn", timeout=timeout)

    def quit(self, timeout: float = 30) -> int:
        """Press q and return flowscope's exit code, once everything it wrote has been read."""
        self.press(b"q")
        exit_status: list[int] = []

        def exited() -> bool:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                exit_status.append(status)
            return bool(done)

        try:
            wait_until(exited, "flowscope to quit", timeout=timeout)
        except AssertionError:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            raise
        self._reader.join(5)
        return os.waitstatus_to_exitcode(exit_status[0])
