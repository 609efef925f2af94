"""Opens many idle TCP connections and holds them.

Each socket ends up "refused" (closed before a single byte of SSH banner),
"banner" (the server greeted it), "silent" (neither, within LIMIT seconds) or
"error" (the connect itself failed). After the first report the sockets stay
open until a line arrives on stdin; then the script reports which greeted
sockets the server still held, closes everything and reports again.

usage: flood.py PORT SOURCES COUNT LIMIT
SOURCES is one loopback address, or several separated by commas (used in turn).
"""

import select
import socket
import sys
import time

from _sshraw import HOST, emit


def main():
    port, count, limit = int(sys.argv[1]), int(sys.argv[3]), float(sys.argv[4])
    sources = sys.argv[2].split(",")
    socks, errors = [], []
    for n in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((sources[n % len(sources)], 0))
        s.settimeout(10)
        try:
            s.connect((HOST, port))
        except OSError as error:
            errors.append(str(error))
            s.close()
            continue
        s.setblocking(False)
        socks.append(s)
    state = {s: "silent" for s in socks}
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        waiting = [s for s in socks if state[s] == "silent"]
        if not waiting:
            break
        readable, _, _ = select.select(waiting, [], [], 0.2)
        for s in readable:
            state[s] = classify(s)
    counts = {kind: 0 for kind in ("refused", "banner", "silent", "other")}
    for kind in state.values():
        counts[kind] += 1
    emit({"opened": len(socks), "errors": len(errors), "firstError": errors[:1], **counts})

    sys.stdin.readline()
    held = 0
    for s in socks:
        if state[s] == "banner" and still_open(s):
            held += 1
    for s in socks:
        s.close()
    emit({"heldAtRelease": held})


def classify(s):
    try:
        data = s.recv(4096)
    except (ConnectionResetError, BrokenPipeError):
        return "refused"
    except BlockingIOError:
        return "silent"
    if not data:
        return "refused"
    return "banner" if data.startswith(b"SSH-") else "other"


def still_open(s):
    """Drains what the server sent; False once it has closed the socket."""
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return False
    except BlockingIOError:
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
