"""Connections that never finish logging in, each from its own source address.

Modes, run at once in threads:
  silent        connects and sends nothing
  banner        sends its SSH banner, then nothing
  trickle       sends a banner one byte every half second, forever
  kex           completes the key exchange, then nothing
  auth-trickle  completes the key exchange, then a `none` request every half second

Each reports whether the server closed it within LIMIT seconds.

usage: slow_handshake.py PORT LIMIT MODE=SOURCE [MODE=SOURCE ...]
prints {mode: {"closed": bool, "local": "ip:port"}}
"""

import sys
import threading
import time

import paramiko

from _sshraw import RawSsh, emit, read_until_closed, tcp_connect


def silent(port, source, limit):
    sock = tcp_connect(port, source)
    try:
        closed, _ = read_until_closed(sock, limit)
        return closed, sock.getsockname()
    finally:
        sock.close()


def banner(port, source, limit):
    sock = tcp_connect(port, source)
    try:
        sock.sendall(b"SSH-2.0-slowpoke\r\n")
        closed, _ = read_until_closed(sock, limit)
        return closed, sock.getsockname()
    finally:
        sock.close()


def trickle(port, source, limit):
    sock = tcp_connect(port, source)
    sock.settimeout(0.5)
    local = sock.getsockname()
    deadline = time.monotonic() + limit
    try:
        sock.sendall(b"SSH-2.0-")
        while time.monotonic() < deadline:
            try:
                sock.sendall(b"x")
            except OSError:
                return True, local
            try:
                if sock.recv(65536) == b"":
                    return True, local
            except TimeoutError:
                pass
            except OSError:
                return True, local
        return False, local
    finally:
        sock.close()


def kex(port, source, limit):
    sock = tcp_connect(port, source)
    local = sock.getsockname()
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=limit)
        deadline = time.monotonic() + limit
        while transport.is_active() and time.monotonic() < deadline:
            time.sleep(0.2)
        return not transport.is_active(), local
    finally:
        transport.close()


def auth_trickle(port, source, limit):
    conn = RawSsh(port, source)
    local = conn.sock.getsockname()
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            if conn.none("nobody")["reply"] == "closed" or not conn.active:
                return True, local
            time.sleep(0.5)
        return False, local
    finally:
        conn.close()


MODES = {
    "silent": silent,
    "banner": banner,
    "trickle": trickle,
    "kex": kex,
    "auth-trickle": auth_trickle,
}


def main():
    port, limit = int(sys.argv[1]), float(sys.argv[2])
    jobs = dict(arg.split("=", 1) for arg in sys.argv[3:])
    results = {}

    def run(mode, source):
        try:
            closed, local = MODES[mode](port, source, limit)
            results[mode] = {"closed": closed, "local": "%s:%d" % local}
        except Exception as error:  # reported, and the test fails on it
            results[mode] = {"closed": None, "error": repr(error)}

    threads = [threading.Thread(target=run, args=job) for job in jobs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    emit(results)


if __name__ == "__main__":
    main()
