"""Connection settings: Java properties, JAAS, profiles, precedence, PEM TLS, and secrets kept out of sight."""

from __future__ import annotations

import argparse
import pickle
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from adapters.kafka.config import (
    ConnectionSettings,
    Secret,
    resolve_connection,
    settings_from_properties,
)
from adapters.kafka.properties import ConfigError, parse_jaas, parse_properties
from adapters.settings import SettingsError
from tui.commands import UsageError
from tui.commands.connection import PRECEDENCE, add_connection_arguments, connection_from_args, wants_connection

PASSWORD = "s3cr3t-P@ss=word;"
SCRAM_JAAS = (
    'org.apache.kafka.common.security.scram.ScramLoginModule required username="ops" password="s3cr3t-P@ss=word;";'
)


def test_java_properties_comments_separators_continuations_and_escapes():
    text = (
        "# a comment\n"
        "! another\n"
        "bootstrap.servers = b1:9092,\\\n"
        "    b2:9093\n"
        "security.protocol:SASL_SSL\n"
        "client.id flowscope-ops\n"
        "path=C:\\\\certs\\\\ca.pem\n"
        "unicode=caf\\u00e9\n"
        "empty=\n"
        "  indented.key = value with spaces  \n"
    )
    props = parse_properties(text)
    assert props["bootstrap.servers"] == "b1:9092,b2:9093"
    assert props["security.protocol"] == "SASL_SSL"
    assert props["client.id"] == "flowscope-ops"
    assert props["path"] == "C:\\certs\\ca.pem"
    assert props["unicode"] == "café"
    assert props["empty"] == ""
    assert props["indented.key"] == "value with spaces  "


def test_jaas_options_with_quotes_escapes_and_bare_values():
    module, options = parse_jaas(
        "org.apache.kafka.common.security.plain.PlainLoginModule required\n"
        '  username=alice password="a \\"quoted\\" pw";'
    )
    assert module.endswith("PlainLoginModule")
    assert options == {"username": "alice", "password": 'a "quoted" pw'}


def test_scram_from_a_command_config_file(tmp_path):
    config = tmp_path / "client.properties"
    config.write_text(
        "bootstrap.servers=kafka-1:9094\n"
        "security.protocol=SASL_PLAINTEXT\n"
        "sasl.mechanism=SCRAM-SHA-512\n"
        f"sasl.jaas.config={SCRAM_JAAS}\n"
        "group.id=ignored-by-flowscope\n"
    )
    settings = resolve_connection(command_config=str(config), environ={}).settings
    assert settings.bootstrap == ("kafka-1:9094",)
    assert settings.security_protocol == "SASL_PLAINTEXT"
    assert settings.sasl_mechanism == "SCRAM-SHA-512"
    assert settings.sasl_username == "ops"
    assert settings.sasl_password is not None and settings.sasl_password.reveal() == PASSWORD
    assert settings.ignored == ()


def test_plain_mechanism_is_inferred_from_the_login_module():
    settings = settings_from_properties(
        {
            "bootstrap.servers": "k:9092",
            "security.protocol": "sasl_plaintext",
            "sasl.jaas.config": 'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" '
            'password="p";',
        }
    )
    assert settings.sasl_mechanism == "PLAIN"


def test_precedence_cli_over_environment_over_profile_over_defaults(tmp_path):
    props = tmp_path / "prod.properties"
    props.write_text("bootstrap.servers=from-profile-file:9092\nclient.id=from-profile-file\nrequest.timeout.ms=7000\n")
    config = tmp_path / "config.toml"
    config.write_text(
        "[profiles.prod]\n"
        'bootstrap = "from-profile:9092"\n'
        'command_config = "prod.properties"\n'
        "interval = 5\n"
        'payloads = "none"\n'
        "[profiles.prod.properties]\n"
        '"client.id" = "from-profile"\n'
        '"security.protocol" = "PLAINTEXT"\n'
    )
    env = {"FLOWSCOPE_CONFIG": str(config), "FLOWSCOPE_PROFILE": "prod"}

    resolved = resolve_connection(environ=env)
    assert resolved.settings.bootstrap == ("from-profile:9092",)
    assert resolved.settings.client_id == "from-profile"  # the profile's keys beat its command-config file
    assert resolved.settings.request_timeout_ms == 7000
    assert (resolved.interval, resolved.payloads) == (5.0, "none")

    env["FLOWSCOPE_BOOTSTRAP"] = "from-env:9092"
    assert resolve_connection(environ=env).settings.bootstrap == ("from-env:9092",)

    settings = resolve_connection(bootstrap="from-cli:9092", overrides=["client.id=from-x"], environ=env).settings
    assert settings.bootstrap == ("from-cli:9092",)
    assert settings.client_id == "from-x"

    # Defaults when nothing else says otherwise.
    plain = resolve_connection(bootstrap="solo", environ={}).settings
    assert plain.bootstrap == ("solo:9092",)
    assert (plain.security_protocol, plain.client_id, plain.request_timeout_ms) == ("PLAINTEXT", "flowscope", 10_000)


def test_cli_command_config_beats_environment_and_x_beats_the_file(tmp_path):
    cli_file = tmp_path / "cli.properties"
    cli_file.write_text("bootstrap.servers=from-cli-file:9092\nclient.id=file\n")
    env_file = tmp_path / "env.properties"
    env_file.write_text("bootstrap.servers=from-env-file:9092\n")
    env = {"FLOWSCOPE_COMMAND_CONFIG": str(env_file)}
    settings = resolve_connection(command_config=str(cli_file), overrides=["client.id=x"], environ=env).settings
    assert settings.bootstrap == ("from-cli-file:9092",)
    assert settings.client_id == "x"


def test_kcat_style_names_override_java_names_from_a_file(tmp_path):
    ca = tmp_path / "ca.pem"
    file = tmp_path / "client.properties"
    file.write_text("bootstrap.servers=k:9093\nsecurity.protocol=SSL\nssl.truststore.location=/nowhere.pem\n")
    settings = resolve_connection(command_config=str(file), overrides=[f"ssl.ca.location={ca}"], environ={}).settings
    assert settings.ssl_cafile == str(ca)


def test_environment_credentials_and_missing_bootstrap():
    env = {
        "FLOWSCOPE_BOOTSTRAP": "k:9096",
        "FLOWSCOPE_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "FLOWSCOPE_SASL_MECHANISM": "SCRAM-SHA-256",
        "FLOWSCOPE_SASL_USERNAME": "svc",
        "FLOWSCOPE_SASL_PASSWORD": PASSWORD,
    }
    settings = resolve_connection(environ=env).settings
    assert (settings.sasl_mechanism, settings.sasl_username) == ("SCRAM-SHA-256", "svc")
    with pytest.raises(ConfigError, match="no bootstrap servers"):
        resolve_connection(environ={})


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"security.protocol": "TLS"}, "security.protocol 'TLS' is not one of"),
        ({"security.protocol": "SASL_SSL", "sasl.mechanism": "GSSAPI"}, "GSSAPI is not available"),
        ({"security.protocol": "SASL_PLAINTEXT", "sasl.jaas.config": SCRAM_JAAS}, "sasl.mechanism is not set"),
        ({"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN"}, "needs a username and a password"),
        ({"security.protocol": "SSL", "ssl.truststore.location": "/etc/kafka/truststore.jks"}, "keytool -exportcert"),
        ({"security.protocol": "SSL", "ssl.truststore.type": "PKCS12"}, "openssl pkcs12"),
        ({"security.protocol": "SSL", "ssl.keystore.location": "/k.p12"}, "keytool -importkeystore"),
        ({"request.timeout.ms": "soon"}, "request.timeout.ms"),
        ({"sasl.jaas.config": "nonsense", "security.protocol": "SASL_SSL"}, "sasl.jaas.config does not parse"),
    ],
)
def test_settings_that_cannot_work_are_refused_with_a_sentence(props, message):
    with pytest.raises(ConfigError, match=message):
        settings_from_properties({"bootstrap.servers": "k:9092", **props})


def test_unknown_security_keys_are_reported_and_client_keys_ignored():
    settings = settings_from_properties(
        {"bootstrap.servers": "k", "group.id": "x", "sasl.login.callback.handler.class": "com.Example"}
    )
    assert settings.ignored == ("sasl.login.callback.handler.class",)


def test_profiles_missing_or_wrong_say_where(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[profiles.dev]\nbootstrap = "k:9092"\ncolour = "red"\n')
    with pytest.raises(SettingsError, match=r"no profile 'prod' in .*config.toml \(profiles: dev\)"):
        resolve_connection(profile="prod", config_file=str(config), environ={})
    with pytest.raises(SettingsError, match="unknown keys: colour"):
        resolve_connection(profile="dev", config_file=str(config), environ={})
    with pytest.raises(SettingsError, match="does not exist"):
        resolve_connection(profile="dev", config_file=str(tmp_path / "none.toml"), environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_connection(command_config=str(tmp_path / "none.properties"), environ={})


def test_secrets_never_show_in_reprs_errors_or_descriptions(tmp_path):
    settings = settings_from_properties(
        {
            "bootstrap.servers": "k:9092",
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.jaas.config": SCRAM_JAAS,
            "ssl.key.password": PASSWORD + "-key",
        }
    )
    texts = [repr(settings), str(settings), settings.describe(), settings.label, repr(settings.sasl_password)]
    assert all(PASSWORD not in text for text in texts)
    assert "******" in repr(settings)
    assert settings.redact(f"broker said: {PASSWORD} and {PASSWORD}-key") == "broker said: ****** and ******"
    with pytest.raises(TypeError):
        pickle.dumps(Secret(PASSWORD))

    # Messages about malformed settings name the key, never the value.
    for props in (
        {"sasl.jaas.config": f"{PASSWORD} garbage", "security.protocol": "SASL_SSL"},
        {
            "sasl.jaas.config": f'x.ScramLoginModule required password="{PASSWORD}" junk',
            "security.protocol": "SASL_SSL",
        },
    ):
        with pytest.raises(ConfigError) as error:
            settings_from_properties({"bootstrap.servers": "k", "sasl.mechanism": "PLAIN", **props})
        assert PASSWORD not in str(error.value)
    with pytest.raises(ConfigError) as error:
        resolve_connection(overrides=[f"sasl.password:{PASSWORD}"], environ={})
    assert PASSWORD not in str(error.value)


def _make_pki(folder: Path) -> dict[str, Path]:
    """A CA and a client certificate signed by it, as PEM files (with openssl, as ops would)."""

    def run(command: str, *extra: str) -> None:
        subprocess.run(["openssl", *command.split(), *extra], cwd=folder, check=True, capture_output=True)

    run("req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca")
    run("req -newkey rsa:2048 -keyout client.key -out client.csr -subj /CN=flowscope -passout", f"pass:{PASSWORD}")
    run("x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2")
    (folder / "keystore.pem").write_text((folder / "client.key").read_text() + (folder / "client.pem").read_text())
    return {name: folder / f"{name}.pem" for name in ("ca", "client", "keystore")} | {"key": folder / "client.key"}


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make test certificates")
def test_tls_context_from_pem_files_and_inline_pem(tmp_path):
    pki = _make_pki(tmp_path)
    base = {"bootstrap.servers": "k:9093", "security.protocol": "SSL"}
    settings = settings_from_properties(
        {
            **base,
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(pki["ca"]),
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(pki["keystore"]),
            "ssl.key.password": PASSWORD,
            "ssl.endpoint.identification.algorithm": "",
        }
    )
    context = settings.ssl_context()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname is False
    assert any(cert["subject"] == ((("commonName", "test-ca"),),) for cert in context.get_ca_certs())

    inline = settings_from_properties(
        {
            **base,
            "ssl.truststore.certificates": pki["ca"].read_text(),
            "ssl.keystore.certificate.chain": pki["client"].read_text(),
            "ssl.keystore.key": pki["key"].read_text(),
            "ssl.key.password": PASSWORD,
        }
    )
    assert inline.ssl_context() is not None
    assert "PRIVATE KEY" not in repr(inline) and "BEGIN" not in repr(inline)  # the key is a Secret

    wrong = ConnectionSettings(**{**settings.__dict__, "ssl_key_password": Secret("wrong")})
    with pytest.raises(ConfigError, match=r"wrong ssl\.key\.password") as error:
        wrong.ssl_context()
    assert "wrong" not in str(error.value).replace("wrong ssl.key.password", "")


def test_the_cli_options_print_their_precedence_and_fail_as_usage_errors(tmp_path):
    parser = argparse.ArgumentParser(prog="flowscope live")
    add_connection_arguments(parser)
    help_text = parser.format_help()
    assert "Precedence, highest first: command line" in " ".join(help_text.split())
    assert PRECEDENCE.split(":")[0] in help_text

    args = parser.parse_args(["-X", "security.protocol=SASL_SSL", "--bootstrap", "k:1"])
    assert wants_connection(args, environ={})
    with pytest.raises(UsageError, match=r"sasl\.mechanism is not set|needs a username"):
        connection_from_args(args, environ={})
    assert not wants_connection(parser.parse_args([]), environ={})
    assert wants_connection(parser.parse_args([]), environ={"FLOWSCOPE_BOOTSTRAP": "k:1"})
