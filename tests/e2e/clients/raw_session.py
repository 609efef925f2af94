"""Session-channel cases that OpenSSH's client cannot produce on demand,
driven with paramiko (run with /usr/bin/python3). Prints one JSON object.

  raw_session.py PORT USER PASSWORD resize CHANGES
      PTY 80x24, `exec "sleep 2; stty size"`, then CHANGES window-changes sent
      at once (the last one 101x33), before the container has started.
  raw_session.py PORT USER PASSWORD close-unstarted [REQUEST]
      Opens a session channel, optionally sends a request that capsule refuses
      (`subsystem nosuch`), closes the channel, and reports whether the server
      answered with its own CHANNEL_CLOSE, and whether the connection still
      serves an exec afterwards.
"""

import json
import sys
import time

import paramiko


def connect(port, user, password):
    transport = paramiko.Transport(("127.0.0.1", port))
    transport.start_client(timeout=10)
    transport.auth_password(user, password)
    return transport


def read_all(chan, timeout=20.0):
    chan.settimeout(timeout)
    out = b""
    while True:
        data = chan.recv(65536)
        if not data:
            break
        out += data
    return out.decode(errors="replace"), chan.recv_exit_status()


def resize(transport, changes):
    chan = transport.open_session()
    chan.get_pty(term="xterm", width=80, height=24)
    chan.exec_command("sleep 2; stty size")
    for i in range(changes - 1):
        chan.resize_pty(width=60 + i % 40, height=20 + i % 10)
    chan.resize_pty(width=101, height=33)
    output, status = read_all(chan)
    return {"output": output.strip(), "status": status}


def close_unstarted(transport, request):
    chan = transport.open_session()
    chan_id = chan.get_id()
    refused = None
    if request == "subsystem":
        try:
            chan.invoke_subsystem("nosuch")
            refused = False
        except paramiko.SSHException:
            refused = True
    chan.close()
    deadline = time.time() + 5
    answered = False
    while time.time() < deadline:
        # paramiko unlinks the channel only when the server's CHANNEL_CLOSE arrives.
        if transport._channels.get(chan_id) is None:
            answered = True
            break
        time.sleep(0.02)
    after = transport.open_session()
    after.exec_command("echo still-serving")
    output, status = read_all(after)
    return {
        "answered": answered,
        "refused": refused,
        "after": output.strip(),
        "after_status": status,
    }


def refused_loop(transport):
    """Asks for an unknown subsystem until the server closes the channel (at most 10 times).

    The requests want no reply: paramiko closes a channel itself when a
    request it waits for is refused, and the point is to see the server close it.
    """
    from paramiko.common import cMSG_CHANNEL_REQUEST
    from paramiko.message import Message

    chan = transport.open_session()
    chan_id = chan.get_id()
    asked = 0
    while asked < 10 and transport._channels.get(chan_id) is not None:
        m = Message()
        m.add_byte(cMSG_CHANNEL_REQUEST)
        m.add_int(chan.remote_chanid)
        m.add_string("subsystem")
        m.add_boolean(False)
        m.add_string("x-capsule-nosuch")
        transport._send_user_message(m)
        asked += 1
        deadline = time.time() + 1
        while time.time() < deadline and transport._channels.get(chan_id) is not None:
            time.sleep(0.02)
    after = transport.open_session()
    after.exec_command("echo still-serving")
    output, status = read_all(after)
    return {"asked": asked, "closed": transport._channels.get(chan_id) is None, "after": output.strip()}


def main():
    port, user, password, case = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    transport = connect(port, user, password)
    try:
        if case == "resize":
            result = resize(transport, int(sys.argv[5]))
        elif case == "refused-loop":
            result = refused_loop(transport)
        elif case == "close-unstarted":
            result = close_unstarted(transport, sys.argv[5] if len(sys.argv) > 5 else "")
        else:
            raise SystemExit(f"unknown case {case}")
    finally:
        transport.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
