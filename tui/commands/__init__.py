"""One module per `flowscope` command: each registers its arguments and runs its work.

A command module provides ``register(subparsers)`` (which sets ``run`` as the parser default) and
raises :class:`UsageError` for problems the user can fix; the CLI turns those into exit code 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from flow.config import ModelConfig

T = TypeVar("T")

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A problem the user can fix; printed as one sentence, exit code 2."""


def parsed(parse: Callable[[str], T], text: str) -> T:
    """``parse(text)``; a ValueError becomes a UsageError with the same sentence."""
    try:
        return parse(text)
    except ValueError as error:
        raise UsageError(str(error)) from None


def add_speed_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--speed", default="1", help="0.25 to 64, or max (1)")


def model_config() -> ModelConfig:
    """How to fold, from the config file (the alias map); a broken file is a usage error."""
    from adapters.settings import SettingsError
    from adapters.settings import model_config as from_file

    try:
        return from_file()
    except SettingsError as error:
        raise UsageError(str(error)) from None
