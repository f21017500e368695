"""Reading and writing recording files: JSON Lines, gzip when compressed, validated line by line."""

from __future__ import annotations

import gzip
import os
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
            for _ in range(64):
                line = file.readline(1 << 20)
                if not line:
                    return None
                stripped = line.strip()
                if stripped and not stripped.startswith(b"%"):
                    return stripped
    except (OSError, EOFError, zlib.error):
        return None
    return None


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
    ``FILE:LINE: what is wrong``.
    """

    def __init__(self, path: str | os.PathLike[str], *, strict: bool = False) -> None:
        super().__init__()
        self.path = Path(path)
        self.strict = strict
        self.lines_read = 0
        self._file = open_input(self.path, "a recording")
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
                    yield obs
            except (EOFError, zlib.error, gzip.BadGzipFile):
                self._problem(number + 1, "the compressed file is truncated here: the lines before it were read")
        finally:
            self.lines_read = number
            self.close()

    def close(self) -> None:
        self._file.close()


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
