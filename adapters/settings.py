"""The flowscope config file: where it is, and the settings that are not about connecting.

One TOML file (``~/.config/flowscope/config.toml``, ``$XDG_CONFIG_HOME/flowscope/config.toml``, or
``$FLOWSCOPE_CONFIG``) holds connection profiles (``[profiles.NAME]``, read by adapters/kafka/config.py)
and the alias map that says who is who::

    [aliases]
    "wh-consumer" = "warehouse"          # a consumer group id
    "urn:legacy:warehouse-7" = "warehouse"  # a producer name from a CloudEvents ce_source header
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from flow.config import ModelConfig

ENV_CONFIG = "FLOWSCOPE_CONFIG"


class SettingsError(ValueError):
    """A config file that cannot be used; the message is one sentence naming the file."""


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    explicit = environ.get(ENV_CONFIG)
    if explicit:
        return Path(explicit).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(base) / "flowscope" / "config.toml"


def load_aliases(path: Path) -> dict[str, str]:
    """The ``[aliases]`` table of a config file; an absent file or table means no aliases."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError):
        raise SettingsError(f"the config file {path} cannot be read") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"the config file {path} is not valid TOML ({error})") from None
    aliases = data.get("aliases", {})
    if not isinstance(aliases, dict) or not all(isinstance(v, str) and v for v in aliases.values()):
        raise SettingsError(f'[aliases] in {path} must map names to service names, like "wh-consumer" = "warehouse"')
    return dict(aliases)


def model_config(environ: Mapping[str, str] | None = None) -> ModelConfig:
    """How to fold, from the config file: today, the alias map."""
    return ModelConfig(aliases=load_aliases(config_path(environ)))
