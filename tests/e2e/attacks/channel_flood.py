"""Opens session channel after session channel on one authenticated connection.

Refused opens are counted; the accepted channels stay open. Then one of them
runs a command, it closes, and a new channel opens and runs another.

usage: channel_flood.py PORT SOURCE USER PASSWORD COUNT
prints one JSON object
"""

import sys
import time

import paramiko

from _sshraw import close_transport, emit, password_transport, run_command


def main():
    port, source, user, password, count = sys.argv[1:6]
    transport = password_transport(int(port), source, user, password)
    opened, refused, errors = [], 0, []
    try:
        for _ in range(int(count)):
            try:
                opened.append(transport.open_session(timeout=15))
            except paramiko.ChannelException:
                refused += 1
            except paramiko.SSHException as error:
                errors.append(str(error))
                break
        out = {"opened": len(opened), "refused": refused, "errors": errors}
        if opened:
            out["command"] = run_command(opened[0], "echo still-here")
            out["reopened"] = run_command(reopen(transport), "echo again")
        out["connectionActive"] = transport.is_active()
    finally:
        close_transport(transport)
    emit(out)


def reopen(transport):
    """A new channel once the server has seen the last one close (a few tries)."""
    for _ in range(20):
        try:
            return transport.open_session(timeout=15)
        except paramiko.ChannelException:
            time.sleep(0.25)
    return transport.open_session(timeout=15)


if __name__ == "__main__":
    main()
