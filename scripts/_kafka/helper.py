#!/usr/bin/env python3
"""Small stdlib-only helpers for scripts/local-kafka and scripts/kafka-tool.

Sub-commands:
  versions URL              print the 4.x release versions listed in a Maven
                            maven-metadata.xml, newest first
  ports N                   print N free TCP ports on 127.0.0.1
  cluster-id                print a random KRaft cluster id
  spawn LOG PIDFILE CMD...  start CMD detached (own session), stdout+stderr
                            to LOG, write its pid to PIDFILE
  check [options]           ask the broker for cluster metadata over the Kafka
                            wire protocol (optionally after a SCRAM login,
                            or over TLS);
  check-http URL            wait until URL answers 200 (--wait S, --pid P)
                            with --wait, retry until it answers

`check` speaks just enough of the Kafka protocol (ApiVersions, Metadata,
SaslHandshake, SaslAuthenticate) to prove that a listener is really serving
requests and that the broker is registered (unfenced) in the cluster metadata,
which is stricter than an open TCP port.
"""

import argparse
import base64
import contextlib
import hashlib
import hmac
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET

# --------------------------------------------------------------------------
# small sub-commands


def cmd_versions(args):
    with urllib.request.urlopen(args.url, timeout=args.timeout) as resp:
        root = ET.fromstring(resp.read())
    found = []
    for node in root.iter("version"):
        text = (node.text or "").strip()
        m = re.fullmatch(r"4\.(\d+)\.(\d+)", text)
        if m:
            found.append(((4, int(m.group(1)), int(m.group(2))), text))
    for _, text in sorted(found, reverse=True):
        print(text)
    return 0 if found else 1


def cmd_ports(args):
    socks = []
    try:
        for _ in range(args.count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        print(" ".join(str(s.getsockname()[1]) for s in socks))
    finally:
        for s in socks:
            s.close()
    return 0


def cmd_cluster_id(_args):
    while True:
        cid = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
        if not cid.startswith("-"):
            print(cid)
            return 0


def cmd_spawn(args):
    cmd = args.cmd
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    with open(args.log, "ab") as log, open(os.devnull, "rb") as devnull:
        proc = subprocess.Popen(
            cmd,
            stdin=devnull,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    with open(args.pidfile, "w") as fh:
        fh.write(f"{proc.pid}\n")
    return 0


# --------------------------------------------------------------------------
# minimal Kafka wire protocol


class ProbeError(Exception):
    pass


class AuthFailed(ProbeError):
    pass


API_METADATA = 3
API_SASL_HANDSHAKE = 17
API_API_VERSIONS = 18
API_SASL_AUTHENTICATE = 36


def _string(value):
    if value is None:
        return struct.pack(">h", -1)
    raw = value.encode()
    return struct.pack(">h", len(raw)) + raw


def _bytes(value):
    return struct.pack(">i", len(value)) + value


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, fmt):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise ProbeError("short response from broker")
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return value

    def int16(self):
        return self.take(">h")

    def int32(self):
        return self.take(">i")

    def int64(self):
        return self.take(">q")

    def string(self):
        size = self.int16()
        if size < 0:
            return None
        raw = self.data[self.pos : self.pos + size]
        self.pos += size
        return raw.decode("utf-8", "replace")

    def bytes_(self):
        size = self.int32()
        if size < 0:
            return None
        raw = self.data[self.pos : self.pos + size]
        self.pos += size
        return raw


class Connection:
    def __init__(self, host, port, timeout, cafile=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if cafile:
            context = ssl.create_default_context(cafile=cafile)
            self.sock = context.wrap_socket(self.sock, server_hostname=host)
        self.correlation = 0

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()

    def _recv_exact(self, size):
        chunks = []
        while size:
            chunk = self.sock.recv(size)
            if not chunk:
                raise ProbeError("broker closed the connection")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def request(self, api_key, version, body):
        self.correlation += 1
        header = struct.pack(">hhi", api_key, version, self.correlation)
        header += _string("flowscope-local-kafka-probe")
        payload = header + body
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)
        (size,) = struct.unpack(">i", self._recv_exact(4))
        reader = Reader(self._recv_exact(size))
        if reader.int32() != self.correlation:
            raise ProbeError("correlation id mismatch")
        return reader


def api_versions(conn):
    reader = conn.request(API_API_VERSIONS, 0, b"")
    error = reader.int16()
    if error:
        raise ProbeError(f"ApiVersions error code {error}")
    ranges = {}
    for _ in range(reader.int32()):
        key, low, high = reader.int16(), reader.int16(), reader.int16()
        ranges[key] = (low, high)
    return ranges


def pick_version(ranges, api_key, implemented, name):
    low, high = ranges.get(api_key, (None, None))
    if low is None:
        raise ProbeError(f"broker does not support {name}")
    for version in sorted(implemented, reverse=True):
        if low <= version <= high:
            return version
    raise ProbeError(f"no common {name} version (broker {low}-{high})")


def metadata_brokers(conn, ranges):
    version = pick_version(ranges, API_METADATA, [4], "Metadata")
    body = struct.pack(">i", 0) + struct.pack(">?", False)  # no topics
    reader = conn.request(API_METADATA, version, body)
    reader.int32()  # throttle_time_ms
    brokers = []
    for _ in range(reader.int32()):
        node_id = reader.int32()
        host = reader.string()
        port = reader.int32()
        reader.string()  # rack
        brokers.append((node_id, host, port))
    return brokers


def _saslname(name):
    return name.replace("=", "=3D").replace(",", "=2C")


def scram_login(conn, ranges, mechanism, username, password):
    digest = {"SCRAM-SHA-512": "sha512", "SCRAM-SHA-256": "sha256"}.get(mechanism)
    if digest is None:
        raise ProbeError(f"unsupported mechanism {mechanism}")
    hs_version = pick_version(ranges, API_SASL_HANDSHAKE, [1], "SaslHandshake")
    reader = conn.request(API_SASL_HANDSHAKE, hs_version, _string(mechanism))
    error = reader.int16()
    offered = [reader.string() for _ in range(reader.int32())]
    if error:
        raise ProbeError(f"SaslHandshake error code {error} (broker offers {offered})")
    auth_version = pick_version(ranges, API_SASL_AUTHENTICATE, [0, 1], "SaslAuthenticate")

    def authenticate(token):
        rdr = conn.request(API_SASL_AUTHENTICATE, auth_version, _bytes(token))
        err, msg, reply = rdr.int16(), rdr.string(), rdr.bytes_()
        if err:
            raise AuthFailed(f"authentication failed (error {err}): {msg}")
        return reply or b""

    nonce = base64.b64encode(os.urandom(24)).decode()
    client_first_bare = f"n={_saslname(username)},r={nonce}"
    server_first = authenticate(("n,," + client_first_bare).encode()).decode()
    fields = dict(item.split("=", 1) for item in server_first.split(","))
    if not fields.get("r", "").startswith(nonce):
        raise ProbeError("SCRAM server nonce does not extend ours")
    salt = base64.b64decode(fields["s"])
    iterations = int(fields["i"])
    salted = hashlib.pbkdf2_hmac(digest, password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    stored_key = hashlib.new(digest, client_key).digest()
    without_proof = f"c=biws,r={fields['r']}"
    auth_message = ",".join([client_first_bare, server_first, without_proof]).encode()
    signature = hmac.new(stored_key, auth_message, digest).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    final = f"{without_proof},p={base64.b64encode(proof).decode()}"
    server_final = authenticate(final.encode()).decode()
    server_key = hmac.new(salted, b"Server Key", digest).digest()
    expected = hmac.new(server_key, auth_message, digest).digest()
    if server_final != "v=" + base64.b64encode(expected).decode():
        raise ProbeError("SCRAM server signature did not verify")


def probe(endpoint, timeout, sasl=None, cafile=None):
    host, _, port = endpoint.rpartition(":")
    conn = Connection(host, int(port), timeout, cafile)
    try:
        ranges = api_versions(conn)
        if sasl:
            scram_login(conn, ranges, *sasl)
        brokers = metadata_brokers(conn, ranges)
    finally:
        conn.close()
    if not any(h == host and p == int(port) for _, h, p in brokers):
        raise ProbeError(f"broker not yet registered in cluster metadata (got {brokers})")


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return False


def cmd_check_http(args):
    last = None
    deadline = time.monotonic() + args.wait
    while True:
        try:
            with urllib.request.urlopen(args.url, timeout=2) as resp:
                if resp.status == 200:
                    return 0
        except OSError as exc:
            last = exc
        if args.pid and not pid_alive(args.pid):
            print(f"process {args.pid} exited", file=sys.stderr)
            return 2
        if time.monotonic() >= deadline:
            print(f"{args.url}: {last}", file=sys.stderr)
            return 1
        time.sleep(0.25)


def cmd_check(args):
    sasl = None
    if args.sasl:
        sasl = (args.mechanism, args.username, args.password)
    targets = [(args.bootstrap, None, None)] if args.bootstrap else []
    if args.sasl:
        targets.append((args.sasl, sasl, None))
    if args.tls:
        targets.append((args.tls, None, args.cafile))
    deadline = time.monotonic() + args.wait
    pending = list(targets)
    last_error = None
    while True:
        still = []
        for endpoint, creds, cafile in pending:
            # Each attempt may block (a frozen broker accepts TCP connections
            # but never answers): bound it by what is left of the wait.
            remaining = deadline - time.monotonic() if args.wait else 5.0
            try:
                probe(endpoint, max(0.5, min(5.0, remaining)), creds, cafile)
            except AuthFailed as exc:
                print(f"{endpoint}: {exc}", file=sys.stderr)
                return 4
            except (OSError, ProbeError, ValueError, KeyError) as exc:
                last_error = f"{endpoint}: {exc}"
                still.append((endpoint, creds, cafile))
        pending = still
        if not pending:
            return 0
        if args.pid and not pid_alive(args.pid):
            print(f"broker process {args.pid} exited", file=sys.stderr)
            return 2
        if time.monotonic() >= deadline:
            if last_error:
                print(last_error, file=sys.stderr)
            return 1
        time.sleep(0.25)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("versions")
    p.add_argument("url")
    p.add_argument("--timeout", type=float, default=20.0)
    p.set_defaults(func=cmd_versions)

    p = sub.add_parser("ports")
    p.add_argument("count", type=int)
    p.set_defaults(func=cmd_ports)

    p = sub.add_parser("cluster-id")
    p.set_defaults(func=cmd_cluster_id)

    p = sub.add_parser("spawn")
    p.add_argument("log")
    p.add_argument("pidfile")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_spawn)

    p = sub.add_parser("check-http")
    p.add_argument("url")
    p.add_argument("--wait", type=float, default=0.0)
    p.add_argument("--pid", type=int)
    p.set_defaults(func=cmd_check_http)

    p = sub.add_parser("check")
    p.add_argument("--bootstrap", help="PLAINTEXT host:port")
    p.add_argument("--sasl", help="SASL_PLAINTEXT host:port")
    p.add_argument("--mechanism", default="SCRAM-SHA-512")
    p.add_argument("--username", default="")
    p.add_argument("--password", default="")
    p.add_argument("--tls", help="SSL host:port (server certificate checked against --cafile)")
    p.add_argument("--cafile", help="PEM file of the CA that signed the broker's certificate")
    p.add_argument("--wait", type=float, default=0.0, help="retry for this many seconds")
    p.add_argument("--pid", type=int, help="give up early if this process exits")
    p.set_defaults(func=cmd_check)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except Exception as exc:  # report one line, never a traceback
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
