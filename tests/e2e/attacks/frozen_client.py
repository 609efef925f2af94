"""A logged-in client that starts a long command, reports, then stays quiet.

The Deno side freezes this process (SIGSTOP) once it has reported: from then
on nothing answers the server's keepalives, as with a client whose machine
vanished without closing the connection.

usage: frozen_client.py PORT SOURCE USER PASSWORD
"""

import sys
import time

from _sshraw import emit, password_transport


def main():
    port, source, user, password = sys.argv[1:5]
    transport = password_transport(int(port), source, user, password)
    channel = transport.open_session(timeout=15)
    channel.exec_command("echo running; sleep 300")
    channel.settimeout(30)
    emit({"ready": channel.recv(64).decode()})
    time.sleep(600)


if __name__ == "__main__":
    main()
