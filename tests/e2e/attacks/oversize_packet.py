"""Malformed traffic that must end the connection, not the server.

Modes, each on its own connection:
  huge-length   after the banners, a packet header claiming 0xFFFFFFF0 bytes
  zero-length   after the banners, a packet header claiming 0 bytes
  long-banner   64 KiB of banner text without a line end

usage: oversize_packet.py PORT SOURCE LIMIT
prints {mode: {"closed": bool, "greeted": bool}}
"""

import struct
import sys

from _sshraw import emit, read_until_closed, tcp_connect


def after_banners(port, source, limit, payload):
    sock = tcp_connect(port, source)
    try:
        greeting = b""
        while b"\n" not in greeting:
            chunk = sock.recv(4096)
            if not chunk:
                return {"closed": True, "greeted": False}
            greeting += chunk
        try:
            sock.sendall(b"SSH-2.0-oversize\r\n" + payload)
        except OSError:
            return {"closed": True, "greeted": greeting.startswith(b"SSH-2.0-")}
        closed, _ = read_until_closed(sock, limit)
        return {"closed": closed, "greeted": greeting.startswith(b"SSH-2.0-")}
    finally:
        sock.close()


def main():
    port, source, limit = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    huge = struct.pack(">IB", 0xFFFFFFF0, 4) + b"\x00" * 4096
    zero = struct.pack(">I", 0) + b"\x00" * 64
    results = {
        "huge-length": after_banners(port, source, limit, huge),
        "zero-length": after_banners(port, source, limit, zero),
    }
    sock = tcp_connect(port, source)
    try:
        sock.sendall(b"SSH-2.0-" + b"A" * 65536)
        closed, _ = read_until_closed(sock, limit)
        results["long-banner"] = {"closed": closed, "greeted": True}
    except OSError:
        results["long-banner"] = {"closed": True, "greeted": True}
    finally:
        sock.close()
    emit(results)


if __name__ == "__main__":
    main()
