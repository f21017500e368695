"""Java client ``.properties`` files and ``sasl.jaas.config`` entries, parsed as the Java client reads them."""

from __future__ import annotations

import re
from pathlib import Path

from adapters.settings import SettingsError


# Defined here, under the connection modules, because the readers below raise it and config.py does too.
class ConfigError(SettingsError):
    """Connection settings that cannot work; the message names the setting and where it came from."""


# -- Java .properties ----------------------------------------------------------------------------------------

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def parse_properties(text: str) -> dict[str, str]:
    """Parse the Java ``.properties`` format: ``#``/``!`` comments, ``=``, ``:`` or space separators,
    backslash line continuations and escapes (including ``\\uXXXX``)."""
    result: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index].lstrip()
        index += 1
        if not line or line[0] in "#!":
            continue
        # A line ending in an odd number of backslashes continues on the next one.
        while _continues(line) and index < len(lines):
            line = line[:-1] + lines[index].lstrip()
            index += 1
        if _continues(line):
            line = line[:-1]
        key, value = _split_property(line)
        result[_unescape(key)] = _unescape(value)
    return result


def _continues(line: str) -> bool:
    trailing = len(line) - len(line.rstrip("\\"))
    return trailing % 2 == 1


def _split_property(line: str) -> tuple[str, str]:
    position = 0
    while position < len(line):
        char = line[position]
        if char == "\\":
            position += 2
            continue
        if char in "=: \t\f":
            break
        position += 1
    key = line[:position]
    rest = line[position:].lstrip(" \t\f")
    if rest[:1] in ("=", ":"):  # one separator, possibly with blanks around it
        rest = rest[1:].lstrip(" \t\f")
    return key, rest


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "\\" or index + 1 >= len(text):
            out.append(char)
            index += 1
            continue
        following = text[index + 1]
        if following == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[index + 2 : index + 6]):
            out.append(chr(int(text[index + 2 : index + 6], 16)))
            index += 6
            continue
        out.append(_ESCAPES.get(following, following))
        index += 2
    return "".join(out)


def read_properties_file(path: str | Path, origin: str) -> dict[str, str]:
    """A client properties file as a dict; the error names the file, never its contents."""
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"command config {file} ({origin}) does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
        raise ConfigError(f"command config {file} ({origin}) cannot be read: {reason}") from None
    return parse_properties(text)


# -- JAAS ------------------------------------------------------------------------------------------------------

_JAAS_HEAD = re.compile(r"\s*([A-Za-z_$][\w.$]*)\s+(required|requisite|sufficient|optional)\b", re.IGNORECASE)
_JAAS_OPTION = re.compile(r'\s*([\w.$-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))')


def parse_jaas(value: str) -> tuple[str, dict[str, str]]:
    """``Module required key="value" ...;`` -> (module class, options). Raises ConfigError without the value."""
    head = _JAAS_HEAD.match(value)
    if head is None:
        raise ConfigError(
            'sasl.jaas.config does not parse: expected `LoginModuleClass required username="..." password="...";`'
        )
    options: dict[str, str] = {}
    position = head.end()
    while True:
        option = _JAAS_OPTION.match(value, position)
        if option is None:
            break
        quoted, bare = option.group(2), option.group(3)
        text = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        options[option.group(1)] = text
        position = option.end()
    if value[position:].strip() not in (";", ""):
        raise ConfigError(
            "sasl.jaas.config does not parse after the login module: options must read "
            'key="value" and the entry must end with `;`'
        )
    return head.group(1), options
