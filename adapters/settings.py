"""flowscope's settings in one typed module: the config file (profiles, aliases) and the choices commands share.

One TOML file (``~/.config/flowscope/config.toml``, ``$XDG_CONFIG_HOME/flowscope/config.toml``, or
``$FLOWSCOPE_CONFIG``, or ``--config``) holds connection profiles and the alias map that says who is who::

    [profiles.prod]
    bootstrap = "kafka-1.prod:9093"
    command_config = "~/.kafka/prod.properties"
    interval = 5
    payloads = "none"

    [aliases]
    "wh-consumer" = "warehouse"             # a consumer group id
    "urn:legacy:warehouse-7" = "warehouse"  # a producer name from a CloudEvents ce_source header

Precedence, highest first: command line > environment > profile > defaults. A profile's connection
properties are merged with the others in adapters/kafka/config.py.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from flow.config import ModelConfig

ENV_CONFIG = "FLOWSCOPE_CONFIG"
ENV_PROFILE = "FLOWSCOPE_PROFILE"

PayloadPolicy = Literal["none", "preview", "full"]
PAYLOAD_POLICIES: tuple[PayloadPolicy, ...] = ("none", "preview", "full")
"""What sampled records keep of their values: nothing, a preview, or all that was sampled."""
DEFAULT_PREVIEW_BYTES = 1024

DEFAULT_INTERVAL = 2.0
MIN_INTERVAL = 0.5
MAX_INTERVAL = 300.0
INTERVALS: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
"""Live refresh intervals in seconds: the range a command accepts, and the ladder + and - walk."""


class SettingsError(ValueError):
    """Settings that cannot be used; the message is one sentence naming the file or setting."""


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    explicit = environ.get(ENV_CONFIG)
    if explicit:
        return Path(explicit).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(base) / "flowscope" / "config.toml"


def _read_config(path: Path) -> dict[str, Any] | None:
    """The config file's tables, or None when there is no such file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        raise SettingsError(f"the config file {path} cannot be read") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"the config file {path} is not valid TOML ({error})") from None


def load_aliases(path: Path) -> dict[str, str]:
    """The ``[aliases]`` table of a config file; an absent file or table means no aliases."""
    aliases = (_read_config(path) or {}).get("aliases", {})
    if not isinstance(aliases, dict) or not all(isinstance(v, str) and v for v in aliases.values()):
        raise SettingsError(f'[aliases] in {path} must map names to service names, like "wh-consumer" = "warehouse"')
    return dict(aliases)


def model_config(environ: Mapping[str, str] | None = None) -> ModelConfig:
    """How to fold, from the config file: today, the alias map."""
    return ModelConfig(aliases=load_aliases(config_path(environ)))


@dataclass(frozen=True)
class Profile:
    """One ``[profiles.NAME]`` table of the config file."""

    name: str
    path: Path
    bootstrap: str | None = None
    command_config: Path | None = None
    properties: Mapping[str, str] = field(default_factory=dict)
    interval: float | None = None
    payloads: PayloadPolicy | None = None


def load_profile(path: Path, name: str) -> Profile:
    """Read ``[profiles.NAME]`` from a TOML config file; SettingsError says what is missing or wrong."""
    data = _read_config(path)
    if data is None:
        raise SettingsError(f"profile {name!r} was asked for but the config file {path} does not exist")
    profiles = data.get("profiles", {})
    table = profiles.get(name) if isinstance(profiles, dict) else None
    if not isinstance(table, dict):
        known = ", ".join(sorted(profiles)) if isinstance(profiles, dict) and profiles else "none"
        raise SettingsError(f"no profile {name!r} in {path} (profiles: {known})")
    where = f"profile {name!r} in {path}"
    unknown = sorted(set(table) - {"bootstrap", "command_config", "properties", "interval", "payloads"})
    if unknown:
        raise SettingsError(
            f"{where} has unknown keys: {', '.join(unknown)} (known: bootstrap, command_config, "
            "properties, interval, payloads)"
        )
    bootstrap = table.get("bootstrap")
    if isinstance(bootstrap, list):
        bootstrap = ",".join(str(item) for item in bootstrap)
    if bootstrap is not None and not isinstance(bootstrap, str):
        raise SettingsError(f"{where}: bootstrap must be a string like 'host1:9092,host2:9092'")
    command_config = table.get("command_config")
    if command_config is not None and not isinstance(command_config, str):
        raise SettingsError(f"{where}: command_config must be a file path")
    properties = table.get("properties", {})
    if not isinstance(properties, dict):
        raise SettingsError(f"{where}: properties must be a table of client properties")
    interval = table.get("interval")
    if interval is not None and (isinstance(interval, bool) or not isinstance(interval, int | float)):
        raise SettingsError(f"{where}: interval must be a number of seconds")
    payloads = table.get("payloads")
    if payloads is not None and payloads not in PAYLOAD_POLICIES:
        raise SettingsError(f"{where}: payloads must be one of {', '.join(PAYLOAD_POLICIES)}")
    config_path = None
    if command_config:
        config_path = Path(command_config).expanduser()
        if not config_path.is_absolute():
            config_path = path.parent / config_path  # relative to the config file, not the cwd
    return Profile(
        name=name,
        path=path,
        bootstrap=bootstrap,
        command_config=config_path,
        properties={str(key): str(value) for key, value in properties.items()},
        interval=float(interval) if interval is not None else None,
        payloads=payloads,
    )
