"""Requests capsule must refuse cleanly, on one authenticated connection.

On one session channel: an unknown request, an unknown subsystem, x11-req and
auth-agent-req, each with want-reply; then a command on that same channel.
On the connection: an unknown channel type, direct-tcpip to TARGET_PORT,
a tcpip-forward global request; then a command on a new channel.

usage: odd_requests.py PORT SOURCE USER PASSWORD TARGET_PORT
prints one JSON object
"""

import sys

import paramiko
from paramiko.common import MSG_CHANNEL_FAILURE, cMSG_CHANNEL_REQUEST
from paramiko.message import Message

from _sshraw import HOST, close_transport, emit, password_transport, run_command


def main():
    port, source, user, password, target = sys.argv[1:6]
    transport = password_transport(int(port), source, user, password)
    # A refused channel request normally makes paramiko close the channel;
    # keep it open instead, to show that the session survives the refusal.
    table = dict(transport._channel_handler_table)
    table[MSG_CHANNEL_FAILURE] = _refused
    transport._channel_handler_table = table
    out = {}
    try:
        chan = transport.open_session(timeout=15)
        out["sameChannel"] = {
            "x-capsule-bogus@example.com": request(chan, "x-capsule-bogus@example.com"),
            "subsystem x-capsule-nosuch": request(
                chan, "subsystem", lambda m: m.add_string("x-capsule-nosuch")
            ),
            "x11-req": request(chan, "x11-req", _x11),
            "auth-agent-req@openssh.com": request(chan, "auth-agent-req@openssh.com"),
            "command": run_command(chan, 'echo "usable|$DISPLAY|$SSH_AUTH_SOCK"'),
        }
        out["channelType"] = open_refused(lambda: transport.open_channel("x-capsule-bogus@example.com", timeout=15))
        out["directTcpip"] = open_refused(
            lambda: transport.open_channel(
                "direct-tcpip", dest_addr=(HOST, int(target)), src_addr=(source, 4242), timeout=15
            )
        )
        try:
            transport.request_port_forward(HOST, 0)
            out["tcpipForward"] = "accepted"
        except paramiko.SSHException:
            out["tcpipForward"] = "refused"
        out["afterwards"] = run_command(transport.open_session(timeout=15), "echo ok")
    finally:
        close_transport(transport)
    emit(out)


def _refused(chan, m):
    chan._refused = True
    chan.event_ready = True
    chan.event.set()


def _x11(m):
    m.add_boolean(False)
    m.add_string("MIT-MAGIC-COOKIE-1")
    m.add_string("00" * 16)
    m.add_int(0)


def request(chan, name, fields=None):
    m = Message()
    m.add_byte(cMSG_CHANNEL_REQUEST)
    m.add_int(chan.remote_chanid)
    m.add_string(name)
    m.add_boolean(True)
    if fields:
        fields(m)
    chan._refused = False
    chan._event_pending()
    chan.transport._send_user_message(m)
    chan._wait_for_event()
    return "refused" if chan._refused else "accepted"


def open_refused(opener):
    try:
        chan = opener()
    except paramiko.ChannelException as error:
        return "refused: %s" % error
    chan.close()
    return "opened"


if __name__ == "__main__":
    main()
