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
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.conftest import ROOT

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
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert time.monotonic() < deadline, f"{text!r} not shown: {bytes(self.output[-1500:])!r}"
            time.sleep(0.05)

    def quit(self, timeout: float = 30) -> int:
        """Press q and return flowscope's exit code, once everything it wrote has been read."""
        self.press(b"q")
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self._reader.join(5)
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                raise AssertionError("flowscope did not quit")
            time.sleep(0.05)
