"""The recorder: tees the observation stream into a recording file, and never raises into the session.

A session hands every folded observation to its tap (``Session.set_tap(recorder.write)``), on the
session's thread; the recorder applies the payload policy, masks the connection's secrets, encodes the
line and writes it. A background thread flushes at least every ``flush_interval`` seconds (a gzip stream
is sync-flushed), so a recorder killed with SIGKILL leaves a file that replays up to its last complete
line (plain) or its last flush (gzip). When writing fails (disk full, file deleted) the recorder keeps
one sentence in :attr:`Recorder.error`, stops writing and lets the session run on.

Payload policy, because a recording is data leaving the cluster:

- ``none`` (the default): no record values and no keys (keys are often customer or order ids, personal
  data as much as values are); headers keep their names, and their values only for the headers the
  model reads to name producers and record types (``ce_source``, ``ce_type``, ...) and content types.
  So a recording replays to the same flow, the same kinds and the same producers as the live view.
- ``preview``: values cut to ``preview_bytes``; keys and headers as sampled.
- ``full``: what the source sampled.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import stat
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from adapters.files.recording import RecordingWriter
from adapters.settings import DEFAULT_PREVIEW_BYTES, PAYLOAD_POLICIES, PayloadPolicy
from flow.config import PRODUCER_HEADERS, TYPE_HEADERS
from flow.observations import Blob, Observation, Payload, RecordObs, StatusObs, encode_observation, payload_from_bytes

if TYPE_CHECKING:
    from adapters.kafka.config import ConnectionSettings
    from adapters.session import Session
    from flow.snapshot import StatusView

DEFAULT_FLUSH_INTERVAL = 1.0
GZIP_LEVEL = 1
"""A recording is written while the live view runs: the fastest level compresses observation lines most
of the way for a fraction of the CPU of the higher levels (bench/README.md has the figures)."""

KEPT_HEADERS: frozenset[str] = frozenset(
    (*PRODUCER_HEADERS, *TYPE_HEADERS, "content-type", "ce_datacontenttype", "ce-datacontenttype")
)
"""Headers whose values a ``none`` recording keeps: what names producers and record types, and content types."""

BATCH_BYTES = 256 * 1024
"""Lines wait in a batch until the next flush or until they add up to this much; the file gets them in one
call. Per line, a gzip stream would release and retake the GIL (zlib does, at every call), and the
session thread would queue behind the UI thread for it hundreds of times a second."""

_MASK = b"******"


class RecorderError(Exception):
    """The recording cannot start (the file exists, cannot be created or written); one sentence."""

    def __init__(self, message: str, *, exists: bool = False) -> None:
        super().__init__(message)
        self.exists = exists


def format_size(size: int) -> str:
    """Bytes for people: 812 B, 14.2 KB, 3.1 MB, 1.20 GB."""
    if size < 1000:
        return f"{size} B"
    for unit, scale in (("KB", 1e3), ("MB", 1e6)):
        if size < scale * 1000:
            return f"{size / scale:.1f} {unit}"
    return f"{size / 1e9:.2f} GB"


class Recorder:
    """Writes the observations handed to :meth:`write` into a recording at ``path``.

    The constructor creates the file (readable by its owner only; gzip when the name ends in ``.gz``)
    and writes the header, or raises :class:`RecorderError` with a sentence: the file exists and
    ``overwrite`` is False, its directory is missing, it is not writable, the disk is full. After that
    nothing raises: :meth:`write` and :meth:`close` put a failure into :attr:`error` and stop writing.

    ``source`` goes into the header as it is, except that every string in ``secrets`` is masked there
    and in every line (build it with :func:`live_recorder` to get the bootstrap label only).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        source: Mapping[str, Any],
        payloads: PayloadPolicy = "none",
        preview_bytes: int = DEFAULT_PREVIEW_BYTES,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        overwrite: bool = False,
        secrets: Iterable[str] = (),
        kept_headers: Collection[str] = KEPT_HEADERS,
        compresslevel: int = GZIP_LEVEL,
    ) -> None:
        if payloads not in PAYLOAD_POLICIES:
            raise ValueError(f"payloads must be one of {', '.join(PAYLOAD_POLICIES)}, not {payloads!r}")
        if preview_bytes < 1:
            raise ValueError("preview_bytes must be at least 1")
        if flush_interval <= 0:
            raise ValueError("flush_interval must be positive")
        self.path = Path(path)
        self.payloads: PayloadPolicy = payloads
        self.preview_bytes = preview_bytes
        self.flush_interval = flush_interval
        self.observations = 0
        """Observations handed to the file so far (it lags :meth:`write` by up to ``flush_interval``)."""
        self.error: str | None = None
        """One sentence once writing failed; nothing is written after it."""
        self.started = time.monotonic()
        self._kept_headers = frozenset(kept_headers)
        # Secrets as they appear inside JSON strings; shorter ones would mask half the file (as redact does).
        needles = {json.dumps(secret, ensure_ascii=False)[1:-1].encode("utf-8", "replace") for secret in secrets}
        self._secrets = tuple(sorted((n for n in needles if len(n) >= 3), key=len, reverse=True))
        self._lock = threading.Lock()
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self._dirty = False
        self._closed = False
        self._file_size = 0
        self._identity: tuple[int, int] | None = None
        self._writer = self._open(self._masked_source(source), overwrite, compresslevel)
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="flowscope-recorder", daemon=True)
        self._flusher.start()

    # -- opening -----------------------------------------------------------------------------------------

    def _masked_source(self, source: Mapping[str, Any]) -> dict[str, Any]:
        try:
            text = json.dumps(dict(source), ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError) as error:
            raise ValueError(f"the recording's source must be plain JSON data ({error})") from None
        masked: dict[str, Any] = json.loads(self._mask(text))
        return masked

    def _open(self, source: dict[str, Any], overwrite: bool, compresslevel: int) -> RecordingWriter:
        path = self.path
        mode: Literal["w", "x"] = "x"
        try:
            existing = os.stat(path)
        except FileNotFoundError:
            existing = None
        except OSError as error:
            raise RecorderError(f"cannot record to {path}: {_reason(error)}") from None
        if existing is not None:
            if stat.S_ISDIR(existing.st_mode):
                raise RecorderError(f"cannot record to {path}: it is a directory")
            if not overwrite:
                raise RecorderError(f"{path} already exists; flowscope does not overwrite it unless asked", exists=True)
            if stat.S_ISREG(existing.st_mode) or path.is_symlink():
                # A new file, not a truncated one: it gets mode 0600 whatever the old one had.
                try:
                    path.unlink()
                except OSError as error:
                    raise RecorderError(f"cannot replace {path}: {_reason(error)}") from None
            else:
                mode = "w"  # a device or a pipe (/dev/full, a FIFO): write into it as it is
        try:
            writer = RecordingWriter(path, source, mode=mode, compresslevel=compresslevel)
        except FileExistsError:
            message = f"{path} already exists; flowscope does not overwrite it unless asked"
            raise RecorderError(message, exists=True) from None
        except OSError as error:
            raise RecorderError(f"cannot create {path}: {_reason(error)}") from None
        try:
            writer.flush()  # the header reaches the disk now: a full disk or a bad target shows at once
            info = os.stat(path)
        except OSError as error:
            _close_quietly(writer)
            raise RecorderError(f"cannot record to {path}: {_reason(error)}") from None
        if stat.S_ISREG(info.st_mode):
            self._identity = (info.st_dev, info.st_ino)
            self._file_size = info.st_size
        return writer

    # -- writing (session thread) ---------------------------------------------------------------------------

    def write(self, obs: Observation) -> None:
        """Record one observation; never raises (a failure ends the recording, see :attr:`error`)."""
        if self._closed or self.error is not None:
            return
        try:
            if isinstance(obs, RecordObs) and self.payloads != "full":
                obs = self._apply_policy(obs)
            line = encode_observation(obs) + b"\n"
            if self._secrets:
                line = self._mask(line)
            with self._lock:
                if self._closed or self.error is not None:
                    return
                self._batch.append(line)
                self._batch_bytes += len(line)
                if self._batch_bytes >= BATCH_BYTES:
                    self._drain_locked()
        except OSError as error:
            self._fail(error)
        except Exception as error:  # a bug must not stop the live view; it ends the recording, with a sentence
            self._fail(error)

    def _apply_policy(self, obs: RecordObs) -> RecordObs:
        if self.payloads == "none":
            kept = self._kept_headers
            if obs.value is None and obs.key is None and all(v is None or k in kept for k, v in obs.headers):
                return obs
            headers = tuple((name, value if name in kept else None) for name, value in obs.headers)
            return dataclasses.replace(obs, value=None, key=None, headers=headers)
        cut = cut_payload(obs.value, self.preview_bytes)
        return obs if cut is obs.value else dataclasses.replace(obs, value=cut)

    def _mask(self, line: bytes) -> bytes:
        for secret in self._secrets:
            if secret in line:
                line = line.replace(secret, _MASK)
        return line

    # -- flushing ------------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Hand what was written to the OS now (also runs every ``flush_interval`` seconds); never raises."""
        with self._lock:
            self._flush_locked()

    def _drain_locked(self) -> None:
        """Hand the batched lines to the writer in one call (lock held; raises OSError)."""
        batch = self._batch
        if not batch:
            return
        data = batch[0] if len(batch) == 1 else b"".join(batch)
        count = len(batch)
        batch.clear()
        self._batch_bytes = 0
        self._writer.write_lines(data)
        self._dirty = True
        self.observations += count

    def _flush_locked(self) -> None:
        if self._closed or self.error is not None:
            return
        try:
            self._drain_locked()
            if not self._dirty:
                return
            self._writer.flush()
            self._dirty = False
            self._check_file()
        except OSError as error:
            self._fail(error, locked=True)

    def _check_file(self) -> None:
        """A file deleted or replaced while recording still takes writes, into nowhere: stop instead."""
        if self._identity is None:
            return
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            info = None
        if info is None or (info.st_dev, info.st_ino) != self._identity:
            self._fail_with(f"recording to {self.path} stopped: the file was deleted or replaced while recording")
            return
        self._file_size = info.st_size

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self.flush()

    # -- failing and closing ---------------------------------------------------------------------------------

    def _fail(self, error: BaseException, *, locked: bool = False) -> None:
        if isinstance(error, OSError):
            message = f"recording to {self.path} stopped: {_reason(error)}"
        else:
            message = f"recording to {self.path} stopped: an observation could not be written ({error!r})"
        if locked:
            self._fail_with(message)
        else:
            with self._lock:
                self._fail_with(message)

    def _fail_with(self, message: str) -> None:
        """Keep the first failure, say what the file still holds, and release the file (lock held)."""
        if self.error is not None or self._closed:
            return
        kept = "what was written up to the last flush" if self.path.suffix == ".gz" else "every complete line"
        self.error = f"{message}; the file keeps {kept}"
        self._stop.set()
        _close_quietly(self._writer)

    def close(self) -> None:
        """Flush and finish the file (a valid recording, the gzip stream ended); idempotent, never raises."""
        self._stop.set()
        if self._flusher is not threading.current_thread():
            self._flusher.join(timeout=5)
        with self._lock:
            if self._closed:
                return
            if self.error is None:
                try:
                    self._drain_locked()
                    self._writer.flush()
                    self._check_file()
                    if self.error is None:
                        self._writer.close()
                        self._refresh_size()
                except OSError as error:
                    self._fail(error, locked=True)
            self._closed = True

    def _refresh_size(self) -> None:
        if self._identity is not None:
            with contextlib.suppress(OSError):
                self._file_size = os.stat(self.path).st_size

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def recording(self) -> bool:
        """True while observations are being written (not closed, no error)."""
        return not self._closed and self.error is None

    # -- what the UI and the CLI show ------------------------------------------------------------------------

    @property
    def bytes_written(self) -> int:
        """JSON Lines written so far, header included, before compression."""
        return self._writer.bytes_written

    @property
    def file_size(self) -> int:
        """The file's size on disk at the last flush (compressed for .gz; 0 for a device)."""
        return self._file_size

    @property
    def size(self) -> int:
        """The size to show: on disk for a regular file, else the bytes written."""
        return self._file_size if self._identity is not None else self.bytes_written

    def badge(self) -> str:
        """What the REC badge shows: the file name and its size, or that recording stopped."""
        if self.error is not None:
            return f"{self.path.name} stopped"
        return f"{self.path.name} {format_size(self.size)}"

    def summary(self) -> str:
        """One line for the end of a recording."""
        seconds = time.monotonic() - self.started
        text = (
            f"{self.observations:,} observations in {seconds:.0f} s, {format_size(self.size)} in {self.path} "
            f"(payloads: {self.payloads})"
        )
        return text if self.error is None else f"{text}; {self.error}"


def cut_payload(payload: Payload | None, limit: int) -> Payload | None:
    """``payload`` cut to ``limit`` bytes (the same object when it is short enough)."""
    if payload is None:
        return None
    if isinstance(payload, Blob):
        data = payload.to_bytes()
        return payload if len(data) <= limit else Blob.from_bytes(data[:limit])
    if len(payload) * 4 <= limit:
        return payload  # even four bytes per character would fit
    data = payload.encode("utf-8", "replace")
    return payload if len(data) <= limit else payload_from_bytes(data, limit)


def live_recorder(
    path: str | os.PathLike[str],
    settings: ConnectionSettings,
    *,
    payloads: PayloadPolicy = "none",
    interval: float | None = None,
    preview_bytes: int = DEFAULT_PREVIEW_BYTES,
    flush_interval: float = DEFAULT_FLUSH_INTERVAL,
    overwrite: bool = False,
) -> Recorder:
    """A recorder for a live cluster: the header names the bootstrap servers only, and every secret of
    ``settings`` (password, key) is masked should it ever appear in a line."""
    source: dict[str, Any] = {"kind": "live", "bootstrap": settings.label, "payloads": payloads}
    if payloads == "preview":
        source["preview_bytes"] = preview_bytes
    if interval is not None:
        source["interval_s"] = interval
    return Recorder(
        path,
        source=source,
        payloads=payloads,
        preview_bytes=preview_bytes,
        flush_interval=flush_interval,
        overwrite=overwrite,
        secrets=settings.secrets(),
    )


def attach(session: Session, recorder: Recorder, status: StatusView | None = None, *, timeout: float = 5.0) -> None:
    """Start recording a running session, between two observations (for the live view's record key).

    ``status`` (the last frame's ``snapshot.status``) is written first, so the recording knows the
    source's state from its first line; everything else comes with the next refresh, which is complete.
    """

    def begin() -> None:
        if status is not None:
            now = session.model.now if session.model is not None else 0
            recorder.write(StatusObs(t=max(now, 0), state=status.state, detail=status.detail, attempt=status.attempt))
        session.set_tap(recorder.write)

    _on_session(session, begin, timeout)


def detach(session: Session, recorder: Recorder, *, timeout: float = 5.0) -> None:
    """Stop recording: no observation reaches the recorder any more, then the file is finished."""

    def end() -> None:
        session.set_tap(None)

    try:
        _on_session(session, end, timeout)
    finally:
        recorder.close()


def _on_session(session: Session, function: Callable[[], None], timeout: float) -> None:
    if session.running:
        session.call_wait(function, timeout)
    else:
        function()


_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EFBIG: "the file is larger than the file system or a size limit allows",
    errno.ENOENT: "its directory does not exist",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.EISDIR: "it is a directory",
    errno.ENOTDIR: "a part of the path is not a directory",
}


def _reason(error: OSError) -> str:
    """An OS error as words a user can act on."""
    return _REASONS.get(error.errno or 0) or (error.strerror or str(error)).lower()


def _close_quietly(writer: RecordingWriter) -> None:
    with contextlib.suppress(OSError):
        writer.close()
