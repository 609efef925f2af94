"""Times wrong-password attempts, interleaved, for several kinds of user name.

Only the USERAUTH_REQUEST round trip is timed. Each connection makes at most
PER_CONNECTION attempts (under the default MaxAuthTries), then is replaced.

usage: auth_timing.py PORT SOURCE TRIES KIND=USER [KIND=USER ...]
prints {"ms": {kind: [...]}, "replies": {kind: [distinct failure replies]}}
"""

import sys

from _sshraw import RawSsh, emit

PER_CONNECTION = 4
WARM_UP = 3


def main():
    port, source, tries = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    users = dict(arg.split("=", 1) for arg in sys.argv[4:])
    conns = {kind: None for kind in users}
    used = {kind: 0 for kind in users}
    samples = {kind: [] for kind in users}
    replies = {kind: set() for kind in users}

    def attempt(kind, n):
        conn = conns[kind]
        if conn is None or used[kind] >= PER_CONNECTION or not conn.active:
            if conn is not None:
                conn.close()
            conn = conns[kind] = RawSsh(port, source)
            used[kind] = 0
        used[kind] += 1
        result = conn.password(users[kind], "wrong-password-%d" % n)
        replies[kind].add("%s %s %s" % (result["reply"], result.get("methods"), result.get("partial")))
        return result["ms"]

    kinds = list(users)
    for n in range(WARM_UP + tries):
        # Rotate the order each round, so that no kind always goes first.
        shift = n % len(kinds)
        for kind in kinds[shift:] + kinds[:shift]:
            ms = attempt(kind, n)
            if n >= WARM_UP:
                samples[kind].append(ms)
    for conn in conns.values():
        if conn is not None:
            conn.close()
    emit({"ms": samples, "replies": {k: sorted(v) for k, v in replies.items()}})


if __name__ == "__main__":
    main()
