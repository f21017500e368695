"""The config file's alias map: who is who, for every command that folds."""

from __future__ import annotations

import json

import pytest

from adapters.settings import SettingsError, config_path, load_aliases
from tui.cli import main


def test_the_config_file_is_found_where_people_keep_it(tmp_path):
    assert config_path({"FLOWSCOPE_CONFIG": str(tmp_path / "x.toml")}) == tmp_path / "x.toml"
    assert config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "flowscope" / "config.toml"


def test_no_file_or_no_table_means_no_aliases(tmp_path):
    assert load_aliases(tmp_path / "missing.toml") == {}
    (tmp_path / "c.toml").write_text('[profiles.prod]\nbootstrap = "k:9092"\n')
    assert load_aliases(tmp_path / "c.toml") == {}


def test_a_broken_alias_table_is_a_sentence(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[aliases]\nwh = 3\n")
    with pytest.raises(SettingsError, match=r"\[aliases\] in .* must map names to service names"):
        load_aliases(path)
    path.write_text("[aliases\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_aliases(path)


def test_aliases_rename_services_in_reports(tmp_path, monkeypatch, capsys, shop_commands):
    config = tmp_path / "config.toml"
    config.write_text('[aliases]\n"web-shop" = "storefront"\n"email-service" = "mailer"\n')
    monkeypatch.setenv("FLOWSCOPE_CONFIG", str(config))
    assert main(["report", str(shop_commands), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    topics = {t["name"]: t for t in data["topics"]}
    assert topics["warehouse"]["producers"] == ["storefront"]  # from the ce_source header
    groups = {g["id"]: g for g in data["consumer_groups"]}
    assert groups["email-service"]["service"] == "mailer"  # a group id
    config.write_text("[aliases]\nbroken = \n")
    assert main(["report", str(shop_commands)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
