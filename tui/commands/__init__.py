"""One module per `flowscope` command: each registers its arguments and runs its work.

A command module provides ``register(subparsers)`` (which sets ``run`` as the parser default) and
raises :class:`UsageError` for problems the user can fix; the CLI turns those into exit code 2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flow.config import ModelConfig

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A problem the user can fix; printed as one sentence, exit code 2."""


def model_config() -> ModelConfig:
    """How to fold, from the config file (the alias map); a broken file is a usage error."""
    from adapters.settings import SettingsError
    from adapters.settings import model_config as from_file

    try:
        return from_file()
    except SettingsError as error:
        raise UsageError(str(error)) from None
