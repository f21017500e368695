"""Reading and writing recording files: JSON Lines, gzip when compressed, validated line by line."""

from __future__ import annotations

import gzip
import io
import os
import stat
import sys
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import ValidationError

from flow.observations import (
    FORMAT_NAME,
    FORMAT_VERSION,
    FormatError,
    Observation,
    RecordingHeader,
    describe_validation_error,
    encode_header,
    encode_observation,
    parse_header,
    validate_line,
)

GZIP_MAGIC = b"\x1f\x8b"
MAX_PROBLEMS_KEPT = 20
TIME_SLACK_MS = 30_000
"""How far a line's ``t`` may fall behind the latest one before it: a live refresh stamps its observations
with the time it began while records sampled during it carry later times, and a refresh that waits on a
slow broker can take this long. A line further back is a bad line, not a journey into the past."""


class RecordingError(Exception):
    """A recording that cannot be read, or a bad line in strict mode; the message names file and line."""


def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"flowscope {version('flowscope')}"
    except PackageNotFoundError:
        return "flowscope (source)"


def open_binary(path: Path) -> IO[bytes]:
    """Open a file for reading, decompressing it when it starts with the gzip magic bytes."""
    raw = path.open("rb")
    if raw.peek(2)[:2] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


def first_line(path: Path) -> bytes | None:
    """The first line that is neither blank nor one of kcat's ``%`` remarks (its stderr mixed in); None
    when there is none or the file cannot be read."""
    try:
        with open_binary(path) as file:
            return _first_line(file, [])
    except OSError:
        return None


def _first_line(file: IO[bytes], read: list[bytes]) -> bytes | None:
    """:func:`first_line` of an open file, appending every line it reads to ``read``."""
    try:
        for _ in range(64):
            line = file.readline(1 << 20)
            read.append(line)
            if not line:
                return None
            stripped = line.strip()
            if stripped and not stripped.startswith(b"%"):
                return stripped
    except (OSError, EOFError, zlib.error):
        return None
    return None


STDIN = "-"
STDIN_NAME = "<stdin>"
"""How messages name standard input, given as ``-``."""


def is_stream(path: str | os.PathLike[str]) -> bool:
    """True for standard input (``-``) and a pipe or device: read once, from the start, never reopened."""
    if os.fspath(path) == STDIN:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


class _Rewound(io.RawIOBase):
    """A stream whose first bytes were read to tell what it is, handed back before the rest of it."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        super().__init__()
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            size = min(len(view), len(self._head))
            view[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        read_some = getattr(self._rest, "read1", self._rest.read)
        data = read_some(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._rest.close()
        super().close()


def open_stream(path: str | os.PathLike[str]) -> tuple[IO[bytes], bytes | None]:
    """Standard input or a pipe, opened once: a reader of it from its start (decompressed when it is gzip)
    and its first line as :func:`first_line` finds it, sniffed from a buffer rather than by reopening."""
    if os.fspath(path) == STDIN:
        raw: IO[bytes] = sys.stdin.buffer
    else:
        raw = open_input(Path(path), "a recording")
    magic = raw.read(2)
    stream: IO[bytes] = io.BufferedReader(_Rewound(magic, raw))
    if magic == GZIP_MAGIC:
        stream = gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[assignment]
    read: list[bytes] = []
    line = _first_line(stream, read)
    return io.BufferedReader(_Rewound(b"".join(read), stream)), line


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def open_input(path: Path, what: str) -> IO[bytes]:
    """Open a file to read observations from; RecordingError with a sentence when it cannot be."""
    try:
        return open_binary(path)
    except FileNotFoundError:
        raise RecordingError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise RecordingError(f"{path}: is a directory, not {what}") from None
    except OSError as error:
        raise RecordingError(f"{path}: cannot be read ({error.strerror or error})") from None


class BadLines:
    """Bad-line bookkeeping shared by the readers: strict mode raises, lenient mode counts."""

    path: Path
    strict: bool

    def __init__(self) -> None:
        self.skipped = 0
        self.problems: list[str] = []

    def _problem(self, line_number: int, what: str) -> None:
        message = f"{self.path}:{line_number}: {what}"
        if self.strict:
            self.close()
            raise RecordingError(message)
        self.skipped += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(message)

    def summary(self) -> str | None:
        """One sentence about skipped lines, for the end of a lenient read; None when nothing was skipped."""
        if not self.skipped:
            return None
        lines = "line" if self.skipped == 1 else "lines"
        return f"{self.path}: skipped {self.skipped} bad {lines} (first: {self.problems[0]})"

    def close(self) -> None:
        raise NotImplementedError


class RecordingReader(BadLines):
    """Streams the observations of one recording, line by line, without loading the file.

    Lenient (the default): a bad line is skipped, counted and described in :attr:`problems`.
    Strict: the first bad line raises :class:`RecordingError`. Either way the message reads
    ``FILE:LINE: what is wrong``. A line whose time is more than :data:`TIME_SLACK_MS` before the
    latest time read so far is a bad line too.
    """

    def __init__(self, path: str | os.PathLike[str], *, strict: bool = False, stream: IO[bytes] | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.strict = strict
        self.lines_read = 0
        self._file = stream if stream is not None else open_input(self.path, "a recording")
        try:
            first = self._file.readline()
        except (EOFError, zlib.error, gzip.BadGzipFile):
            self._file.close()
            raise RecordingError(f"{self.path}:1: the compressed file is truncated before its first line") from None
        self.lines_read = 1
        if not first.strip():
            self._file.close()
            raise RecordingError(f"{self.path}:1: empty file, not a flowscope recording")
        try:
            self.header = parse_header(first)
        except FormatError as error:
            self._file.close()
            raise RecordingError(f"{self.path}:1: {error}") from None

    def __iter__(self) -> Iterator[Observation]:
        # The hot path of every replay and report: read, validate, yield. Everything unusual (blank,
        # bad or partial lines, a truncated gzip stream) is sorted out only after validation failed.
        validate = validate_line
        number = self.lines_read
        latest = floor = -1
        try:
            try:
                for line in self._file:
                    number += 1
                    try:
                        obs = validate(line)
                    except ValidationError as error:
                        if not line.strip():
                            continue
                        if not line.endswith(b"\n"):
                            # A writer killed mid-line leaves a partial last line; it is not an observation.
                            self._problem(number, "incomplete last line (the writer stopped mid-line)")
                            return
                        self._problem(number, describe_validation_error(error))
                        continue
                    if obs.t > latest:
                        latest = obs.t
                        floor = latest - TIME_SLACK_MS
                    elif obs.t < floor:
                        self._problem(number, _backwards(obs.t, latest))
                        continue
                    yield obs
            except (EOFError, zlib.error, gzip.BadGzipFile):
                self._problem(number + 1, "the compressed file is truncated here: the lines before it were read")
        finally:
            self.lines_read = number
            self.close()

    def close(self) -> None:
        self._file.close()


def _backwards(t: int, latest: int) -> str:
    return (
        f"time runs backwards: t={t} is {(latest - t) / 1000:,.1f} s before an earlier line's "
        f"(a step back of up to {TIME_SLACK_MS // 1000} s is taken as reordering)"
    )


class RecordingWriter:
    """Writes a recording: header first, then one observation per line; gzip when the name ends in .gz.

    The file is created readable by its owner only: a recording is data that left the cluster.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        source: dict[str, Any],
        *,
        compress: bool | None = None,
        mode: Literal["w", "x"] = "w",
        created: str | None = None,
        app: str | None = None,
        compresslevel: int = 9,
    ) -> None:
        self.path = Path(path)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if mode == "x" else os.O_TRUNC)
        fd = os.open(self.path, flags, 0o600)
        raw = os.fdopen(fd, "wb")
        compress = self.path.suffix == ".gz" if compress is None else compress
        self._raw = raw
        self._file: IO[bytes] = (
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=compresslevel)  # type: ignore[assignment]
            if compress
            else raw
        )
        header = RecordingHeader(
            format=FORMAT_NAME,
            version=FORMAT_VERSION,
            created=created or iso_utc(datetime.now(UTC)),
            source=source,
            app=app or app_version(),
        )
        first = encode_header(header) + b"\n"
        self._file.write(first)
        self.bytes_written = len(first)
        """Bytes of JSON Lines handed to the file so far, header included (before compression)."""

    def write(self, obs: Observation) -> None:
        self.write_lines(encode_observation(obs) + b"\n")

    def write_lines(self, data: bytes) -> None:
        """Write already encoded observation lines, each ending in a newline (the recorder encodes its own)."""
        self._file.write(data)
        self.bytes_written += len(data)

    def flush(self) -> None:
        """Hand everything written so far to the OS; a gzip stream is sync-flushed, so a reader can
        decompress up to here even if the writer dies before it closes the stream."""
        self._file.flush()
        self._raw.flush()

    def close(self) -> None:
        # The raw file closes even when finishing the gzip stream fails (a full disk): no leaked descriptor.
        try:
            if self._file is not self._raw:
                self._file.close()
        finally:
            self._raw.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
