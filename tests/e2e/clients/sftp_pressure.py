"""SFTP clients that press on capsule's memory (run with /usr/bin/python3).
Each prints one JSON line when it is in its steady state, then keeps going
until killed or until HOLD seconds have passed.

  sftp_pressure.py PORT USER PASSWORD flood-read HOLD
      Opens /dev/zero and sends up to 5,000 READ requests of 32 KiB without
      reading a single reply: the client's window closes after about 2 MiB,
      and the replies must wait in the container, not in capsule.
  sftp_pressure.py PORT USER PASSWORD slow-upload HOLD PATH
      Writes to PATH (a FIFO that a slow reader drains) as fast as SFTP lets
      it, pipelined, for HOLD seconds.
  sftp_pressure.py PORT USER PASSWORD endless-read HOLD
      Reads /dev/zero for ever (until killed): a transfer to vanish from.
"""

import json
import sys
import time

import paramiko
from paramiko.sftp import CMD_READ

HOST = "127.0.0.1"


def say(value):
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def main():
    port, user, password, case, hold = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
    transport = paramiko.Transport((HOST, port))
    transport.start_client(timeout=20)
    transport.auth_password(user, password)
    sftp = paramiko.SFTPClient.from_transport(transport)
    deadline = time.time() + hold
    if case == "flood-read":
        handle = sftp.open("/dev/zero", "rb")
        # Requests stop flowing too once the server stalls (its stdin fills
        # while it cannot answer): send until then.
        sftp.get_channel().settimeout(5)
        sent = 0
        try:
            for i in range(5000):
                sftp._async_request(type(None), CMD_READ, handle.handle, i * 32768, 32768)
                sent += 1
        except OSError:
            pass
        say({"requested": sent * 32768})
        while time.time() < deadline:
            time.sleep(0.1)
    elif case == "slow-upload":
        target = sftp.open(sys.argv[6], "wb")
        target.set_pipelined(True)
        chunk = b"x" * 32768
        said = False
        sent = 0
        while time.time() < deadline:
            target.write(chunk)
            sent += len(chunk)
            if not said and sent >= 1024 * 1024:
                say({"writing": True})
                said = True
        if not said:
            say({"writing": True})
    elif case == "endless-read":
        source = sftp.open("/dev/zero", "rb")
        said = False
        while time.time() < deadline:
            source.read(32768)
            if not said:
                say({"reading": True})
                said = True
    else:
        raise SystemExit(f"unknown case {case}")
    transport.close()


if __name__ == "__main__":
    main()
