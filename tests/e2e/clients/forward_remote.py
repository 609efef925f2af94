"""Remote forwarding (`tcpip-forward`, port 0) with a Python client library
(run with /usr/bin/python3, where Debian's paramiko and asyncssh import).
Prints one JSON object on its last line.

  forward_remote.py paramiko|asyncssh PORT USER PASSWORD TARGET_PORT

Asks the server to listen on 127.0.0.1, port 0 (the server picks one), with
connections to it sent to 127.0.0.1:TARGET_PORT on this machine; then runs
`wget` to that port in the container, through a session of the same
connection, and reports the port, the body wget printed and its exit status.
"""

import asyncio
import json
import socket
import sys
import threading

HOST = "127.0.0.1"
TIMEOUT = 30


def fetch_command(port):
    # The listener is up before the reply, so one try is enough.
    return f"wget -qO- http://127.0.0.1:{port}/"


def with_paramiko(port, user, password, target_port):
    import paramiko

    def pipe(src, dst, close):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            close()

    def handler(channel, origin, server):
        local = socket.create_connection((HOST, target_port))

        def close_both():
            for end in (channel, local):
                try:
                    end.close()
                except OSError:
                    pass

        threading.Thread(target=pipe, args=(channel, local, close_both), daemon=True).start()
        threading.Thread(target=pipe, args=(local, channel, close_both), daemon=True).start()

    transport = paramiko.Transport((HOST, port))
    try:
        transport.start_client(timeout=TIMEOUT)
        transport.auth_password(user, password)
        bound = transport.request_port_forward("127.0.0.1", 0, handler)
        channel = transport.open_session(timeout=TIMEOUT)
        channel.settimeout(TIMEOUT)
        channel.exec_command(fetch_command(bound))
        body = b""
        while True:
            data = channel.recv(65536)
            if not data:
                break
            body += data
        status = channel.recv_exit_status()
        transport.cancel_port_forward("127.0.0.1", bound)
        return {"port": bound, "body": body.decode(), "status": status}
    finally:
        transport.close()


async def with_asyncssh(port, user, password, target_port):
    import asyncssh

    async with asyncssh.connect(
        HOST, port, username=user, password=password, known_hosts=None,
        client_keys=None, connect_timeout=TIMEOUT,
    ) as conn:
        listener = await conn.forward_remote_port("127.0.0.1", 0, HOST, target_port)
        bound = listener.get_port()
        result = await asyncio.wait_for(conn.run(fetch_command(bound)), TIMEOUT)
        listener.close()
        await listener.wait_closed()
        return {"port": bound, "body": result.stdout, "status": result.exit_status}


def main():
    library, port, user, password, target_port = sys.argv[1:6]
    if library == "paramiko":
        result = with_paramiko(int(port), user, password, int(target_port))
    else:
        result = asyncio.run(with_asyncssh(int(port), user, password, int(target_port)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
