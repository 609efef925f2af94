"""Public key authentication games (CVE-2024-45337 class and friends).

Each scenario runs on a fresh connection and records every reply. Keys:
A is authorized for alice, B for bob, C for nobody, R (RSA) for carol, and
D for any user name (auth.anyUserKeysFiles), which shows whether malformed
user names are refused.

usage: key_swap.py PORT SOURCE KEY_A KEY_B KEY_C KEY_R KEY_D
prints one JSON object: {scenario: {"local": "ip:port", "steps": [reply, ...]}}
"""

import sys

import paramiko

from _sshraw import RawSsh, emit, fingerprint, load_key


def main():
    port, source = int(sys.argv[1]), sys.argv[2]
    a, b, c, r, d = (load_key(p) for p in sys.argv[3:8])

    def query_then(conn, then):
        return [conn.query("alice", a), then(conn)]

    scenarios = {
        # Query A (acceptable), then sign with a key nobody authorized.
        "query A, sign C as alice": lambda s: query_then(s, lambda s: s.signed("alice", c, c)),
        # Query A, then sign with bob's key, still as alice.
        "query A, sign B as alice": lambda s: query_then(s, lambda s: s.signed("alice", b, b)),
        # Query A, then name A in the request but sign with B.
        "query A, offer A signed by B": lambda s: query_then(
            s, lambda s: s.signed("alice", a, b)
        ),
        # Query A as alice, then a real login as bob: the identity is bob's.
        "query A as alice, sign B as bob": lambda s: query_then(
            s, lambda s: s.signed("bob", b, b)
        ),
        # Query A, then sign with A: alice.
        "query A, sign A as alice": lambda s: query_then(s, lambda s: s.signed("alice", a, a)),
        # A query alone authenticates nothing, and a channel without auth is refused.
        "query A, then none": lambda s: [
            s.query("alice", a),
            s.none("alice"),
            open_channel(s),
        ],
        # RSA with SHA-1 is refused; SHA-2 signatures work.
        "rsa ssh-rsa then rsa-sha2-256": lambda s: [
            s.signed("carol", r, r, "ssh-rsa"),
            s.signed("carol", r, r, "rsa-sha2-256"),
        ],
        "rsa rsa-sha2-512": lambda s: [s.signed("carol", r, r, "rsa-sha2-512")],
        # none and hostbased never log in, even with a key the user owns.
        "none and hostbased": lambda s: [s.none("alice"), s.hostbased("alice", a)],
        # D logs in as any well-formed name, and as no malformed one.
        "any-user key as valid_name": lambda s: [s.signed("valid_name", d, d)],
    }
    for bad in BAD_NAMES:
        scenarios["any-user key as %r" % bad] = lambda s, bad=bad: [s.signed(bad, d, d)]
    out = {
        "fingerprints": {
            name: fingerprint(k) for name, k in (("A", a), ("B", b), ("C", c), ("R", r), ("D", d))
        }
    }
    results = {}
    for name, run in scenarios.items():
        conn = RawSsh(port, source)
        local = "%s:%d" % conn.sock.getsockname()
        try:
            results[name] = {"local": local, "steps": run(conn)}
        finally:
            conn.close()
    out["scenarios"] = results
    emit(out)


BAD_NAMES = ["../../etc/passwd", "a" * 33, "-rf", "root\nx", "bad name", "9lives", ""]


def open_channel(conn):
    """Tries to open a session channel on a connection that is not authenticated."""
    try:
        channel = conn.transport.open_session(timeout=10)
    except (paramiko.SSHException, EOFError, OSError) as error:
        return {"reply": "channel refused", "error": str(error)}
    channel.close()
    return {"reply": "channel opened"}


if __name__ == "__main__":
    main()
