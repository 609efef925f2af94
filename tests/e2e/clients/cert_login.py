"""A login with an OpenSSH user certificate through a Python client library
(run with /usr/bin/python3, where Debian's paramiko and asyncssh import).
Prints one JSON object on its last line: the command's output and status,
or the error.

  cert_login.py paramiko|asyncssh PORT USER KEY CERT COMMAND
"""

import asyncio
import json
import sys

HOST = "127.0.0.1"
TIMEOUT = 20


def with_paramiko(port, user, key_path, cert_path, command):
    import paramiko

    key = paramiko.Ed25519Key.from_private_key_file(key_path)
    key.load_certificate(cert_path)
    transport = paramiko.Transport((HOST, port))
    try:
        transport.start_client(timeout=TIMEOUT)
        transport.auth_publickey(user, key)
        channel = transport.open_session(timeout=TIMEOUT)
        channel.exec_command(command)
        out = b""
        while True:
            data = channel.recv(65536)
            if not data:
                break
            out += data
        return {"stdout": out.decode(), "status": channel.recv_exit_status()}
    finally:
        transport.close()


async def with_asyncssh(port, user, key_path, cert_path, command):
    import asyncssh

    key = asyncssh.read_private_key(key_path)
    cert = asyncssh.read_certificate(cert_path)
    async with asyncssh.connect(
        HOST, port, username=user, known_hosts=None, client_keys=[(key, cert)],
        password=None, connect_timeout=TIMEOUT,
    ) as conn:
        result = await conn.run(command)
        return {"stdout": result.stdout, "status": result.exit_status}


def main():
    library, port, user, key_path, cert_path, command = sys.argv[1:7]
    try:
        if library == "paramiko":
            result = with_paramiko(int(port), user, key_path, cert_path, command)
        else:
            result = asyncio.run(with_asyncssh(int(port), user, key_path, cert_path, command))
    except Exception as error:  # the test reads the refusal
        result = {"error": type(error).__name__ + ": " + str(error)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
