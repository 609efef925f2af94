"""One SFTP session's round trip with a Python client library (run with
/usr/bin/python3, where Debian's paramiko and asyncssh import). Prints one
JSON object on its last line.

  sftp_roundtrip.py paramiko|asyncssh PORT USER PASSWORD LOCAL REMOTE_DIR

In one session: mkdir REMOTE_DIR, upload LOCAL as REMOTE_DIR/data.bin, stat
it, rename it to moved.bin, list REMOTE_DIR, download moved.bin to
LOCAL.back, (paramiko) symlink link -> moved.bin and read it back, then remove
everything and check that REMOTE_DIR is gone from its parent's listing.

asyncssh picks the order of SSH_FXP_SYMLINK's arguments from the server's
version string (OpenSSH's sftp-server takes them swapped); behind capsule's
own version string it would send them in the order of the draft, which
OpenSSH's sftp-server reads the other way round, so it makes no symlink here.
"""

import asyncio
import json
import posixpath
import sys

HOST = "127.0.0.1"
TIMEOUT = 20


def with_paramiko(port, user, password, local, remote_dir):
    import paramiko

    transport = paramiko.Transport((HOST, port))
    try:
        transport.start_client(timeout=TIMEOUT)
        transport.auth_password(user, password)
        sftp = paramiko.SFTPClient.from_transport(transport)
        sftp.get_channel().settimeout(TIMEOUT)
        data = posixpath.join(remote_dir, "data.bin")
        moved = posixpath.join(remote_dir, "moved.bin")
        link = posixpath.join(remote_dir, "link")
        sftp.mkdir(remote_dir)
        sftp.put(local, data)
        size = sftp.stat(data).st_size
        sftp.rename(data, moved)
        sftp.symlink("moved.bin", link)
        target = sftp.readlink(link)
        listing = sorted(sftp.listdir(remote_dir))
        sftp.get(moved, local + ".back")
        sftp.remove(link)
        sftp.remove(moved)
        sftp.rmdir(remote_dir)
        parent = sftp.listdir(posixpath.dirname(remote_dir))
        removed = posixpath.basename(remote_dir) not in parent
        sftp.close()
        return {"listing": listing, "size": size, "readlink": target, "removed": removed}
    finally:
        transport.close()


async def with_asyncssh(port, user, password, local, remote_dir):
    import asyncssh

    async with asyncssh.connect(
        HOST,
        port,
        username=user,
        password=password,
        known_hosts=None,
        client_keys=None,
        connect_timeout=TIMEOUT,
    ) as conn:
        async with conn.start_sftp_client() as sftp:
            data = posixpath.join(remote_dir, "data.bin")
            moved = posixpath.join(remote_dir, "moved.bin")
            await sftp.mkdir(remote_dir)
            await sftp.put(local, data)
            size = (await sftp.stat(data)).size
            await sftp.rename(data, moved)
            listing = sorted(await sftp.listdir(remote_dir))
            # listdir includes "." and ".." in asyncssh.
            listing = [name for name in listing if name not in (".", "..")]
            await sftp.get(moved, local + ".back")
            await sftp.remove(moved)
            await sftp.rmdir(remote_dir)
            parent = await sftp.listdir(posixpath.dirname(remote_dir))
            removed = posixpath.basename(remote_dir) not in parent
            return {"listing": listing, "size": size, "removed": removed}


def main():
    library, port, user, password, local, remote_dir = sys.argv[1:7]
    if library == "paramiko":
        result = with_paramiko(int(port), user, password, local, remote_dir)
    elif library == "asyncssh":
        result = asyncio.run(
            asyncio.wait_for(
                with_asyncssh(int(port), user, password, local, remote_dir), TIMEOUT * 2
            )
        )
    else:
        raise SystemExit(f"unknown library {library!r}: use paramiko or asyncssh")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
