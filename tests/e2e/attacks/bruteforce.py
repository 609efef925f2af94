"""Password brute force from one source address, connection after connection.

The first connection also checks what counts against MaxAuthTries: eight
`none` requests and eight unsigned queries of an unknown key come first, and
must not use up the attempts.

usage: bruteforce.py PORT SOURCE USER KEY MAX_CONNECTIONS
prints {"connections": [{"refused": bool, "failures": n, "closed": bool, ...}]}
"""

import sys

from _sshraw import RawSsh, emit, load_key, tcp_connect, refused_before_banner

PASSWORDS_PER_CONNECTION = 10
AFTER_REFUSAL = 2


def main():
    port, source, user = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    key, max_connections = load_key(sys.argv[4]), int(sys.argv[5])
    connections = []
    refusals = 0
    for n in range(max_connections):
        sock = tcp_connect(port, source)
        local = "%s:%d" % sock.getsockname()
        if refused_before_banner(sock):
            sock.close()
            connections.append({"local": local, "refused": True})
            refusals += 1
            if refusals > AFTER_REFUSAL:
                break
            continue
        conn = RawSsh(port, source, sock=sock)
        record = {"local": local, "refused": False}
        if n == 0:
            record["none"] = [conn.none(user)["reply"] for _ in range(8)]
            record["queries"] = [conn.query(user, key)["reply"] for _ in range(8)]
        failures = 0
        replies = []
        for attempt in range(PASSWORDS_PER_CONNECTION):
            reply = conn.password(user, "guess-%d-%d" % (n, attempt))["reply"]
            replies.append(reply)
            if reply != "failure":
                break
            failures += 1
        record.update(failures=failures, replies=replies, closed=not conn.active or replies[-1] == "closed")
        conn.close()
        connections.append(record)
    emit({"connections": connections})


if __name__ == "__main__":
    main()
