"""Opening a file of observations: a flowscope recording or a kcat ``-C -J`` dump, told apart by its first line.

:func:`open_file` is the one way in for every command that reads a file (``replay``, ``report``, the demo):
it decides what the file is once, and hands out readers of it, its span and how to label it. Standard
input (``-``) and pipes are opened once and told apart from a buffer of their first lines, so they can be
read once, from the start.
"""

from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from adapters.files.kcat import KCAT_DETAIL, KcatReader, looks_like_kcat
from adapters.files.recording import (
    STDIN,
    STDIN_NAME,
    RecordingError,
    RecordingReader,
    first_line,
    is_stream,
    open_binary,
    open_stream,
)
from adapters.source import SourceInfo
from flow.observations import FORMAT_NAME, FormatError, load_json, parse_observation

FileKind = Literal["recording", "kcat", "unknown"]


def sniff(path: str | os.PathLike[str]) -> FileKind:
    """Tell a flowscope recording from a kcat dump by its first line (gzip or not)."""
    return _kind_of(first_line(Path(path)))


def _kind_of(line: bytes | None) -> FileKind:
    if line is None:
        return "unknown"
    if looks_like_kcat(line):
        return "kcat"
    try:
        data = load_json(line)
    except (ValueError, UnicodeDecodeError):
        return "unknown"
    if isinstance(data, dict) and data.get("format") == FORMAT_NAME:
        return "recording"
    return "unknown"


@dataclass(slots=True)
class ObservationFile:
    """A file of observations whose kind is known; :meth:`read` opens a fresh reader each time, except
    for standard input or a pipe (``streamed``): its one reader was made by :func:`open_file`."""

    path: Path
    kind: FileKind
    strict: bool = False
    streamed: bool = False
    _stream_reader: RecordingReader | KcatReader | None = None

    def read(self) -> RecordingReader | KcatReader:
        """A reader from the file's start; both kinds iterate observations and count skipped lines.

        A file that is neither kind gets the recording reader's sentence on what a recording looks like.
        """
        if self.streamed:
            reader, self._stream_reader = self._stream_reader, None
            if reader is None:
                raise RecordingError(f"{self.path}: a pipe can be read only once")
            return reader
        if self.kind == "kcat":
            return KcatReader(self.path, strict=self.strict)
        return RecordingReader(self.path, strict=self.strict)

    def info(self, *, demo: bool = False) -> SourceInfo:
        """How the status bar and reports name this file."""
        if self.kind == "kcat":
            return SourceInfo("import", self.path.name, KCAT_DETAIL)
        return SourceInfo("demo" if demo else "replay", self.path.name, str(self.path))

    def span(self) -> tuple[int | None, int | None]:
        """First and last instants of the stream, for a replay's progress bar (unknown for a pipe)."""
        if self.streamed:
            return None, None
        if self.kind == "kcat":
            return KcatReader(self.path).span()
        return _recording_span(self.path)


def open_file(path: str | os.PathLike[str], *, strict: bool = False) -> ObservationFile:
    """The file at ``path`` (``-``: standard input) as observations; raises RecordingError at once, with
    the reader's sentence, when it cannot be read."""
    if is_stream(path):
        stream, line = open_stream(path)
        name = Path(STDIN_NAME if os.fspath(path) == STDIN else path)
        kind = _kind_of(line)
        reader = (KcatReader if kind == "kcat" else RecordingReader)(name, strict=strict, stream=stream)
        return ObservationFile(name, kind, strict, streamed=True, _stream_reader=reader)
    found = ObservationFile(Path(path), sniff(path), strict)
    found.read().close()  # fail now, not when the first observation is wanted
    return found


def _recording_span(path: Path) -> tuple[int | None, int | None]:
    """First and last timestamps of a recording, cheaply: the head and tail of a plain file.

    A compressed file cannot be read from its end, so its last timestamp is left unknown (None) and
    learnt while playing.
    """
    first: int | None = None
    with open_binary(path) as head:
        try:
            head.readline()
            for line in head:
                try:
                    first = parse_observation(line).t
                    break
                except FormatError:
                    continue
        except (EOFError, zlib.error, gzip.BadGzipFile):
            return first, None  # the reader says where the stream is damaged; the span is what it is
        if isinstance(head, gzip.GzipFile):
            return first, None
    size = path.stat().st_size
    with path.open("rb") as tail:
        tail.seek(max(size - 65536, 0))
        lines = tail.read().splitlines()
    for line in reversed(lines):
        try:
            return first, parse_observation(line).t
        except FormatError:
            continue
    return first, None
