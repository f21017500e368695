"""The one sanitiser for untrusted text: every key, value, header, id, host and error passes through it.

Control characters become visible placeholders, so nothing from a cluster or a file can move the
cursor, retitle the terminal, write the clipboard or reorder text; long text is cut. The result is
plain text: the UI renders it with Text objects, never as markup, and reports print it as is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flow.observations import Payload

# C0 controls (except tab) and DEL get the Unicode "control picture" for them: ␛ for ESC.
_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)}
_PICTURES[0x7F] = "\u2421"
# Characters that reorder or hide text (bidi embeddings, overrides, isolates; zero-width and
# separator characters) are shown by name, as are C1 controls (ESC [ in one byte: 0x9b).
_NAMED = {
    **{code: f"<U+{code:04X}>" for code in range(0x80, 0xA0)},
    **{code: f"<U+{code:04X}>" for code in (0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2028, 0x2029, 0xFEFF)},
    **{code: f"<U+{code:04X}>" for code in range(0x202A, 0x202F)},
    **{code: f"<U+{code:04X}>" for code in range(0x2066, 0x206A)},
}
_UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)
ELLIPSIS = "…"


def _replace(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"  # a lone surrogate cannot be printed at all
    return _PICTURES.get(code) or _NAMED[code]


def clean(text: str, limit: int = 200, *, multiline: bool = False) -> str:
    """Text safe to show: no control characters, at most ``limit`` characters (then an ellipsis).

    With ``multiline`` newlines are kept (value previews); otherwise they show as ␊ like any control.
    Tabs are kept, as a space on a single line.
    """
    cut = len(text) > limit
    if cut:
        text = text[:limit]
    if multiline:
        text = "\n".join(_UNSAFE.sub(_replace, line) for line in text.split("\n"))
    else:
        text = _UNSAFE.sub(_replace, text)
        if "\t" in text:
            text = text.replace("\t", " ")
    return text + ELLIPSIS if cut else text


def payload_text(payload: Payload | None, limit: int = 200, *, multiline: bool = False) -> str:
    """A key, header value or value for display: text as text, binary as escaped bytes."""
    from flow.observations import Blob  # here, so the UI can start before pydantic has loaded

    if payload is None:
        return "∅"
    if isinstance(payload, Blob):
        data = payload.to_bytes()
        shown = data[:limit].decode("utf-8", errors="backslashreplace")
        return clean(shown, limit * 4, multiline=multiline) + (ELLIPSIS if len(data) > limit else "")
    return clean(payload, limit, multiline=multiline)


_UNSAFE_OUTPUT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def terminal_safe(text: str) -> str:
    """Printed output (JSON, DOT, Mermaid, text) with every character a terminal would act on, or that
    reorders text, written as a \\uXXXX escape: JSON reads it back as the same character."""
    return _UNSAFE_OUTPUT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
