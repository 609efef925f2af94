"""A password login with a TOTP second factor through a Python client
library (run with /usr/bin/python3, where Debian's paramiko and asyncssh
import). The codes are answered in order, one per keyboard-interactive
round, until one is accepted or the server gives up. Prints one JSON object
on its last line: what the first factor got (paramiko), the prompts seen,
how many codes were sent, and the command's output and status, or the error.

  totp_login.py paramiko|asyncssh PORT USER PASSWORD CODES COMMAND

CODES is comma-separated.
"""

import asyncio
import json
import sys

HOST = "127.0.0.1"
TIMEOUT = 20


def with_paramiko(port, user, password, codes, command, report):
    import paramiko

    transport = paramiko.Transport((HOST, port))
    try:
        transport.start_client(timeout=TIMEOUT)
        # On partial success paramiko returns the methods still to pass.
        report["after_password"] = transport.auth_password(user, password)
        pending = list(codes)

        def answer(title, instructions, prompts):
            report["prompts"].append([text for text, _echo in prompts])
            code = pending.pop(0)
            report["sent"] += 1
            return [code for _ in prompts]

        while True:
            try:
                transport.auth_interactive(user, answer)
                break
            except paramiko.AuthenticationException as error:
                report["refusals"] += 1
                if not pending or not transport.is_active():
                    raise error
        channel = transport.open_session(timeout=TIMEOUT)
        channel.exec_command(command)
        out = b""
        while True:
            data = channel.recv(65536)
            if not data:
                break
            out += data
        report.update(stdout=out.decode(), status=channel.recv_exit_status())
    finally:
        report["active"] = transport.is_active()
        transport.close()


async def with_asyncssh(port, user, password, codes, command, report):
    import asyncssh

    pending = list(codes)

    class Client(asyncssh.SSHClient):
        def password_auth_requested(self):
            return password

        def kbdint_auth_requested(self):
            return "" if pending else None

        def kbdint_challenge_received(self, name, instructions, lang, prompts):
            if not prompts:
                return []
            report["prompts"].append([text for text, _echo in prompts])
            code = pending.pop(0)
            report["sent"] += 1
            return [code for _ in prompts]

    conn, _client = await asyncssh.create_connection(
        Client, HOST, port, username=user, known_hosts=None, client_keys=None,
        connect_timeout=TIMEOUT,
    )
    async with conn:
        result = await conn.run(command)
        report.update(stdout=result.stdout, status=result.exit_status)


def main():
    library, port, user, password, codes, command = sys.argv[1:7]
    codes = codes.split(",")
    report = {"prompts": [], "sent": 0, "refusals": 0}
    try:
        if library == "paramiko":
            with_paramiko(int(port), user, password, codes, command, report)
        else:
            asyncio.run(with_asyncssh(int(port), user, password, codes, command, report))
    except Exception as error:  # the test reads the refusal
        report["error"] = type(error).__name__ + ": " + str(error)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
