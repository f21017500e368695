"""One module per `flowscope` command: each registers its arguments and runs its work.

A command module provides ``register(subparsers)`` (which sets ``run`` as the parser default) and
raises :class:`UsageError` for problems the user can fix; the CLI turns those into exit code 2.
"""

from __future__ import annotations

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A problem the user can fix; printed as one sentence, exit code 2."""
