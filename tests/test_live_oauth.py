"""OAUTHBEARER against a real OAuth 2 token endpoint (mock-oauth2-server, started by scripts/local-kafka)
whose JWKS the broker checks every token against: configured with the Java client's keys, a token by
client credentials attaches; a token the broker refuses, a token that has already expired and an
endpoint that cannot be reached each end in one sentence, exit 2, with no secret or token in output or
recording; tokens are reused until 80% of their lifetime has passed, then asked for again."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.kafka.config import ConfigError, resolve_connection
from adapters.kafka.oauth import REFRESH_AT, ClientCredentialsTokens
from tests.live_helpers import create_topics, flowscope, produce, unique

ROOT = Path(__file__).resolve().parent.parent
JWT = re.compile(r"eyJ[\w-]{10,}\.[\w-]{10,}")


def oauth_properties(kafka, *, scope: str = "kafka", endpoint: str | None = None) -> list[str]:
    jaas = (
        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
        f'clientId="{kafka.tls("oauth_client_id")}" clientSecret="{kafka.tls("oauth_client_secret")}" '
        f'scope="{scope}";'
    )
    return [
        "security.protocol=SASL_PLAINTEXT",
        "sasl.mechanism=OAUTHBEARER",
        f"sasl.oauthbearer.token.endpoint.url={endpoint or kafka.tls('oauth_token_endpoint')}",
        "sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
        f"sasl.jaas.config={jaas}",
    ]


@pytest.mark.kafka
async def test_report_and_record_attach_with_a_token_the_broker_checked(kafka, tmp_path):
    topic = unique("oauth-orders")
    await create_topics(kafka.bootstrap, {topic: 2})
    await produce(kafka.bootstrap, topic, 10)
    config = tmp_path / "client.properties"
    config.write_text("".join(line + "\n" for line in oauth_properties(kafka)))
    bootstrap = kafka.tls("oauth_bootstrap")
    code, out, err, _ = await asyncio.to_thread(
        flowscope,
        "report",
        "--format",
        "json",
        "--duration",
        "3",
        "--bootstrap",
        bootstrap,
        "--command-config",
        str(config),
    )
    assert code == 0, err
    assert topic in {row["name"] for row in json.loads(out)["topics"]}
    recording = tmp_path / "flow.jsonl"
    code, out, err, _ = await asyncio.to_thread(
        flowscope,
        "record",
        "--bootstrap",
        bootstrap,
        "--command-config",
        str(config),
        "-o",
        str(recording),
        "--duration",
        "3",
    )
    assert code == 0, err
    written = recording.read_text()
    assert topic in written
    assert kafka.tls("oauth_client_secret") not in out + err + written and not JWT.search(out + err + written)


@pytest.mark.kafka
@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("a token for another audience", "rejected the OAUTHBEARER token"),
        # The broker validates it (its log: "The JWT is no longer valid") but tells the client no more than
        # {"status":"invalid_token"}; the endpoint's expires_in says it before the token is sent.
        ("an expired token", "gave client 'flowscope' a token that had already expired"),
        ("no token endpoint", "cannot reach"),
    ],
)
async def test_an_oauth_failure_is_one_sentence_and_nothing_secret(kafka, case, words, tmp_path):
    if case == "no token endpoint":
        properties = oauth_properties(kafka, endpoint="http://127.0.0.1:9/default/token")
    elif case == "an expired token":
        properties = oauth_properties(kafka, scope=kafka.tls("oauth_expired_scope"))
    else:
        properties = oauth_properties(kafka, scope="billing")  # the brokers expect audience "kafka"
    options = [argument for item in properties for argument in ("-X", item)]
    recording = tmp_path / "flow.jsonl"
    for command in (["report", "--duration", "5"], ["record", "-o", str(recording), "--duration", "3"]):
        code, out, err, _ = await asyncio.to_thread(
            flowscope, *command, "--bootstrap", kafka.tls("oauth_bootstrap"), *options
        )
        assert code == 2, (command, out, err)
        assert words in err and err.count("\n") == 1 and "Traceback" not in err, err
        written = recording.read_text() if recording.exists() else ""
        seen = out + err + written
        assert kafka.tls("oauth_client_secret") not in seen and not JWT.search(seen), seen


@pytest.mark.kafka
async def test_the_expired_token_is_one_the_broker_refuses(kafka):
    """What the expired case rests on: presented all the same, the token is refused by the real broker,
    which checks its exp and says no more than invalid_token (hence flowscope's own look at expires_in)."""
    import base64
    import urllib.parse
    import urllib.request

    from adapters.kafka.wire import ConnectionFailed, Wire

    scope = kafka.tls("oauth_expired_scope")
    basic = base64.b64encode(f"{kafka.tls('oauth_client_id')}:{kafka.tls('oauth_client_secret')}".encode())
    request = urllib.request.Request(
        kafka.tls("oauth_token_endpoint"),
        data=urllib.parse.urlencode({"grant_type": "client_credentials", "scope": scope}).encode(),
        headers={"Authorization": "Basic " + basic.decode()},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    claims = json.loads(_claims(answer["access_token"]))
    assert answer["expires_in"] < 0 and claims["exp"] < claims["iat"] and claims["aud"] == kafka.tls("oauth_scope")
    settings = resolve_connection(
        bootstrap=kafka.tls("oauth_bootstrap"), overrides=oauth_properties(kafka, scope=scope), environ={}
    ).settings
    wire = Wire(settings)
    wire.tokens._fetch = lambda: (answer["access_token"], 60.0)  # sent as if it were still valid
    try:
        with pytest.raises(ConnectionFailed, match=r"rejected the OAUTHBEARER token .*invalid_token"):
            await wire.metadata()
    finally:
        await wire.close()


@pytest.mark.kafka
async def test_a_token_is_reused_until_most_of_its_life_has_passed_then_asked_for_again(kafka):
    settings = resolve_connection(bootstrap="localhost:9092", overrides=oauth_properties(kafka), environ={}).settings
    assert settings.oauth is not None
    now = [1000.0]
    tokens = ClientCredentialsTokens(settings.oauth, timeout=10, clock=lambda: now[0])
    first = await tokens.token()
    assert await tokens.token() == first and tokens.requests == 1
    lifetime = json.loads(_claims(first))["exp"] - json.loads(_claims(first))["iat"]
    now[0] += REFRESH_AT * lifetime - 1
    assert await tokens.token() == first and tokens.requests == 1
    now[0] += 2
    second = await tokens.token()
    assert tokens.requests == 2 and second != first
    # Connections opened at once share one request.
    now[0] += lifetime
    await asyncio.gather(*(tokens.token() for _ in range(5)))
    assert tokens.requests == 3


def _claims(token: str) -> str:
    import base64

    body = token.split(".")[1]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


@pytest.mark.parametrize(
    ("given", "words"),
    [
        (
            {"sasl.jaas.config": 'x.OAuthBearerLoginModule required clientId="a" clientSecret="b";'},
            "token.endpoint.url",
        ),
        ({"sasl.oauthbearer.token.endpoint.url": "https://idp/token"}, "needs client credentials"),
    ],
)
def test_oauthbearer_settings_say_what_is_missing(given, words):
    base = {"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER"}
    overrides = [f"{key}={value}" for key, value in {**base, **given}.items()]
    with pytest.raises(ConfigError, match=words) as raised:
        resolve_connection(bootstrap="k:9093", overrides=overrides, environ={})
    assert '"b"' not in str(raised.value)


def test_oauthbearer_settings_keep_the_secret_out_of_sight():
    overrides = [
        "security.protocol=SASL_SSL",
        "sasl.mechanism=OAUTHBEARER",
        "sasl.oauthbearer.token.endpoint.url=https://idp.example/oauth2/token",
        "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
        'clientId="flowscope" clientSecret="Top-Secret-9" scope="kafka";',
    ]
    settings = resolve_connection(bootstrap="k:9093", overrides=overrides, environ={}).settings
    assert settings.oauth is not None and settings.oauth.scope == "kafka"
    assert "Top-Secret-9" not in repr(settings) + settings.describe()
    assert settings.redact("x Top-Secret-9 y") == "x ****** y"
    assert settings.describe() == "SASL_SSL OAUTHBEARER as client flowscope of https://idp.example/oauth2/token"


# -- AWS MSK IAM: as far as this machine allows (no MSK here): the token AWS's signer makes, its reuse,
# -- and what a user without credentials or the signer is told.

MSK = [
    "security.protocol=SASL_SSL",
    "sasl.mechanism=AWS_MSK_IAM",
    "sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;",
    "sasl.client.callback.handler.class=software.amazon.msk.auth.iam.IAMClientCallbackHandler",
]
FAKE_KEY, FAKE_SECRET = "AKIAFLOWSCOPETEST01", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFLOWSCOPE"


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """Static test credentials, and nothing else of the chain (no ~/.aws, no instance metadata)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    return monkeypatch


def test_msk_iam_settings_take_the_java_library_keys_and_a_region(aws_env):
    settings = resolve_connection(
        bootstrap="b-1.msk:9098", overrides=[*MSK, "aws.region=eu-west-1"], environ={}
    ).settings
    assert settings.sasl_mechanism == "OAUTHBEARER" and settings.msk_region == "eu-west-1" and not settings.ignored
    assert settings.describe() == "SASL_SSL OAUTHBEARER (AWS MSK IAM, eu-west-1)"
    from_env = resolve_connection(bootstrap="b-1.msk:9098", overrides=MSK, environ={"AWS_REGION": "us-east-2"})
    assert from_env.settings.msk_region == "us-east-2"
    with pytest.raises(ConfigError, match="needs the cluster's AWS region"):
        resolve_connection(bootstrap="b-1.msk:9098", overrides=MSK, environ={})


async def test_an_msk_iam_token_is_a_signed_connect_request_reused_until_most_of_its_life_has_passed(aws_env):
    from urllib.parse import parse_qs, urlparse

    from adapters.kafka.oauth import MskIamTokens

    now = [__import__("time").time()]
    tokens = MskIamTokens("eu-west-1", clock=lambda: now[0])
    token = await tokens.token()
    import base64

    url = urlparse(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    query = parse_qs(url.query)
    assert url.hostname == "kafka.eu-west-1.amazonaws.com"
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert (
        query["X-Amz-Credential"][0].startswith(f"{FAKE_KEY}/")
        and "/eu-west-1/kafka-cluster/" in query["X-Amz-Credential"][0]
    )
    assert FAKE_SECRET not in token and "X-Amz-Signature" in query
    lifetime = int(query["X-Amz-Expires"][0])
    now[0] += REFRESH_AT * lifetime - 5
    assert await tokens.token() == token and tokens.requests == 1
    now[0] += 10
    await tokens.token()
    assert tokens.requests == 2


async def test_msk_iam_without_credentials_says_where_flowscope_looked(aws_env):
    from adapters.kafka.oauth import MskIamTokens
    from adapters.kafka.wire import ConnectionFailed

    aws_env.delenv("AWS_ACCESS_KEY_ID")
    aws_env.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ConnectionFailed, match=r"no AWS credentials found .*standard chain") as raised:
        await MskIamTokens("eu-west-1").token()
    assert not raised.value.retryable


@pytest.mark.kafka
def test_an_msk_iam_report_without_credentials_is_one_sentence_exit_2(kafka, tmp_path):
    """Against the broker's OAUTHBEARER listener: the token is signed once the handshake has begun."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env |= {
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REGION": "eu-west-1",
    }
    options = [argument for item in [*MSK, "security.protocol=SASL_PLAINTEXT"] for argument in ("-X", item)]
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "report", "--bootstrap", kafka.tls("oauth_bootstrap"), *options],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "no AWS credentials found" in done.stderr and done.stderr.count("\n") == 1, done.stderr
