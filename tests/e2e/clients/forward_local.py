"""Local forwarding with a Python client library's own API (run with
/usr/bin/python3, where Debian's paramiko and asyncssh import). Prints one
JSON object on its last line.

  forward_local.py paramiko|asyncssh --port PORT --user USER --password PW
      --serve COMMAND [--tcp HOST:PORT]... [--unix PATH]... [--http HOST:PORT/PATH]...

On one connection: a session runs COMMAND, which must print a line "ready"
once its servers listen and then keep running (a connection's forwards land
in the container of its running session). Then, for each target, a forwarded
channel: paramiko's transport.open_channel("direct-tcpip", ...), asyncssh's
conn.open_connection(host, port) and conn.open_unix_connection(path)
(direct-streamlocal@openssh.com; paramiko has no API for it). A --tcp or
--unix channel is read until the server closes it; an --http channel first
sends "GET /PATH HTTP/1.0". Prints {"session": what COMMAND printed up to
"ready", "results": {spec: result}}, a result being

  {"length": N, "sha256": HEX, "text": the first 200 bytes (the body, for --http)}
  {"refused": CODE, "reason": TEXT}   when the channel open failed
"""

import argparse
import asyncio
import hashlib
import json
import sys

HOST = "127.0.0.1"
TIMEOUT = 20


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library", choices=["paramiko", "asyncssh"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--serve", required=True, help="the session's command")
    parser.add_argument("--tcp", action="append", default=[], metavar="HOST:PORT")
    parser.add_argument("--unix", action="append", default=[], metavar="PATH")
    parser.add_argument("--http", action="append", default=[], metavar="HOST:PORT/PATH")
    args = parser.parse_args()
    if args.library == "paramiko" and args.unix:
        parser.error("paramiko has no API for direct-streamlocal@openssh.com channels")
    return args


def targets(args):
    """(spec, kind, address, request) for every target, in a fixed order."""
    found = []
    for spec in args.tcp:
        host, port = spec.rsplit(":", 1)
        found.append((spec, "tcp", (host, int(port)), b""))
    for spec in args.unix:
        found.append((spec, "unix", spec, b""))
    for spec in args.http:
        hostport, _, path = spec.partition("/")
        host, port = hostport.rsplit(":", 1)
        request = f"GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode()
        found.append((spec, "tcp", (host, int(port)), request))
    return found


def report(data, request):
    if request:
        data = data.partition(b"\r\n\r\n")[2]
    return {
        "length": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "text": data[:200].decode("utf-8", "replace"),
    }


def with_paramiko(args):
    import paramiko

    transport = paramiko.Transport((HOST, args.port))
    try:
        transport.start_client(timeout=TIMEOUT)
        transport.auth_password(args.user, args.password)
        session = transport.open_session(timeout=TIMEOUT)
        session.settimeout(TIMEOUT)
        session.exec_command(args.serve)
        said = b""
        while b"ready\n" not in said:
            chunk = session.recv(4096)
            if not chunk:
                raise RuntimeError(f"the session ended before it was ready: {said!r}")
            said += chunk
        results = {}
        for spec, _, address, request in targets(args):
            try:
                channel = transport.open_channel(
                    "direct-tcpip", address, ("127.0.0.1", 0), timeout=TIMEOUT
                )
            except paramiko.ChannelException as error:
                results[spec] = {"refused": error.code, "reason": error.text}
                continue
            channel.settimeout(TIMEOUT)
            channel.sendall(request)
            data = bytearray()
            for chunk in iter(lambda: channel.recv(65536), b""):
                data += chunk
            channel.close()
            results[spec] = report(bytes(data), request)
        session.close()
        return said, results
    finally:
        transport.close()


async def with_asyncssh(args):
    import asyncssh

    async with asyncssh.connect(
        HOST,
        args.port,
        username=args.user,
        password=args.password,
        known_hosts=None,
        client_keys=None,
        connect_timeout=TIMEOUT,
    ) as conn:
        process = await conn.create_process(args.serve, encoding=None)
        said = b""
        while not said.endswith(b"ready\n"):
            line = await asyncio.wait_for(process.stdout.readline(), TIMEOUT)
            if not line:
                raise RuntimeError(f"the session ended before it was ready: {said!r}")
            said += line
        results = {}
        for spec, kind, address, request in targets(args):
            try:
                if kind == "unix":
                    reader, writer = await conn.open_unix_connection(address)
                else:
                    reader, writer = await conn.open_connection(*address)
            except asyncssh.ChannelOpenError as error:
                results[spec] = {"refused": error.code, "reason": error.reason}
                continue
            writer.write(request)
            data = await asyncio.wait_for(reader.read(), TIMEOUT)
            writer.close()
            results[spec] = report(data, request)
        process.close()
        return said, results


def main():
    args = parse_args()
    if args.library == "paramiko":
        said, results = with_paramiko(args)
    else:
        said, results = asyncio.run(with_asyncssh(args))
    print(json.dumps({"session": said.decode("utf-8", "replace"), "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
