"""Shared plumbing of capsule's attack scripts (run with /usr/bin/python3).

`RawSsh` does the key exchange with paramiko, then takes the user
authentication layer away from paramiko so that a script can send any
USERAUTH_REQUEST it likes (unsigned key queries, signatures by another key,
hostbased, `none`) and see each reply as it arrives, with its round-trip time.
"""

import base64
import hashlib
import json
import queue
import socket
import sys
import time

import paramiko
from paramiko.common import (
    MSG_SERVICE_ACCEPT,
    MSG_USERAUTH_BANNER,
    MSG_USERAUTH_FAILURE,
    MSG_USERAUTH_PK_OK,
    MSG_USERAUTH_SUCCESS,
    cMSG_SERVICE_REQUEST,
    cMSG_USERAUTH_REQUEST,
)
from paramiko.message import Message

HOST = "127.0.0.1"
REPLY_NAMES = {
    MSG_SERVICE_ACCEPT: "service_accept",
    MSG_USERAUTH_SUCCESS: "success",
    MSG_USERAUTH_FAILURE: "failure",
    MSG_USERAUTH_PK_OK: "pk_ok",
}


def emit(value):
    """Prints one JSON line on stdout for the Deno side and flushes it."""
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def tcp_connect(port, source, timeout=10.0):
    """A TCP connection to capsule from the loopback address `source`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    # No Nagle delay: round trips are measured, and small requests must leave at once.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((source, 0))
    sock.connect((HOST, port))
    return sock


def refused_before_banner(sock, timeout=10.0):
    """Whether the server closed `sock` before sending a single byte (the data stays queued)."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def read_until_closed(sock, limit_seconds):
    """Reads until the peer closes; returns (closed, bytes read)."""
    sock.settimeout(0.5)
    data = b""
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True, data
        if not chunk:
            return True, data
        data += chunk
    return False, data


def load_key(path):
    """A private key file made by ssh-keygen (ed25519, or RSA in PEM)."""
    with open(path) as f:
        text = f.read()
    if "BEGIN RSA PRIVATE KEY" in text:
        return paramiko.RSAKey.from_private_key_file(path)
    return paramiko.Ed25519Key.from_private_key_file(path)


def fingerprint(key):
    """`SHA256:...` as ssh-keygen -l prints it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


class QuickAckSocket:
    """A socket that acknowledges every segment at once.

    Linux delays ACKs and turns quick ACKs back off by itself, so the option
    is set again before every read. Without it, a server that writes one SSH
    packet in several pieces without TCP_NODELAY has Nagle hold the rest of
    the packet until our delayed ACK (~40 ms), and round trips measure that.
    """

    def __init__(self, sock):
        self._sock = sock

    def recv(self, *args):
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return self._sock.recv(*args)

    def __getattr__(self, name):
        return getattr(self._sock, name)


def password_transport(port, source, user, password, timeout=15.0):
    """A paramiko Transport logged in with a password (quick ACKs, no Nagle)."""
    transport = paramiko.Transport(QuickAckSocket(tcp_connect(port, source, timeout)))
    transport.start_client(timeout=timeout)
    transport.auth_password(user, password)
    return transport


def run_command(chan, command):
    """Runs `command` on an open session channel; returns its stdout and exit status."""
    chan.settimeout(30)
    chan.exec_command(command)
    stdout = b""
    try:
        while True:
            data = chan.recv(65536)
            if not data:
                break
            stdout += data
    except socket.timeout:
        pass
    status = chan.recv_exit_status()
    chan.close()
    return {"stdout": stdout.decode(errors="replace"), "status": status}


def close_transport(transport):
    """Closes a transport and its socket at once (see RawSsh.close)."""
    try:
        transport.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    transport.close()


class _Inbox:
    """Stands in for paramiko's AuthHandler: queues every userauth reply."""

    def __init__(self):
        self.replies = queue.Queue()
        self.authenticated = False
        self._handler_table = {
            ptype: (lambda inbox, m, p=ptype: inbox.replies.put((p, m)))
            for ptype in (
                MSG_SERVICE_ACCEPT,
                MSG_USERAUTH_SUCCESS,
                MSG_USERAUTH_FAILURE,
                MSG_USERAUTH_BANNER,
                MSG_USERAUTH_PK_OK,
            )
        }

    def is_authenticated(self):
        return self.authenticated

    def get_username(self):
        return None

    def abort(self):
        # Called by paramiko when the transport dies.
        self.replies.put((None, None))


class RawSsh:
    """One SSH connection with hand-made user authentication requests."""

    def __init__(self, port, source, timeout=15.0, sock=None):
        self.timeout = timeout
        self.sock = sock or tcp_connect(port, source, timeout)
        self.transport = paramiko.Transport(QuickAckSocket(self.sock))
        self.transport.start_client(timeout=timeout)
        self.inbox = _Inbox()
        self.transport.auth_handler = self.inbox
        m = Message()
        m.add_byte(cMSG_SERVICE_REQUEST)
        m.add_string("ssh-userauth")
        self.transport._send_message(m)
        kind, _ = self._wait()
        if kind != "service_accept":
            raise RuntimeError("ssh-userauth not accepted: %s" % kind)

    def close(self):
        # Shut the socket down first: paramiko's reader thread would otherwise
        # keep it open until its next read times out, and the server would
        # still count this connection against the source's cap.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.transport.close()

    @property
    def active(self):
        return self.transport.is_active()

    def _wait(self):
        while True:
            try:
                ptype, m = self.inbox.replies.get(timeout=self.timeout)
            except queue.Empty:
                return "timeout", None
            if ptype is None:
                return "closed", None
            if ptype == MSG_USERAUTH_BANNER:
                continue
            return REPLY_NAMES[ptype], m

    def _request(self, user, method):
        m = Message()
        m.add_byte(cMSG_USERAUTH_REQUEST)
        m.add_string(user)
        m.add_string("ssh-connection")
        m.add_string(method)
        return m

    def send(self, m):
        """Sends a request; returns {reply, ms, methods?} once answered."""
        started = time.perf_counter()
        try:
            self.transport._send_message(m)
        except (EOFError, OSError, paramiko.SSHException):
            return {"reply": "closed", "ms": 0.0}
        kind, reply = self._wait()
        result = {"reply": kind, "ms": (time.perf_counter() - started) * 1000.0}
        if kind == "failure":
            result["methods"] = reply.get_text()
            result["partial"] = reply.get_boolean()
        if kind == "success":
            self.inbox.authenticated = True
            self.transport._auth_trigger()
        return result

    def none(self, user):
        return self.send(self._request(user, "none"))

    def password(self, user, password):
        m = self._request(user, "password")
        m.add_boolean(False)
        m.add_string(password)
        return self.send(m)

    def query(self, user, key, algorithm=None):
        """A publickey request without a signature: "would you take this key?"."""
        m = self._request(user, "publickey")
        m.add_boolean(False)
        m.add_string(algorithm or key.get_name())
        m.add_string(key.asbytes())
        return self.send(m)

    def signed(self, user, offered, signer, algorithm=None):
        """A publickey request naming `offered`, signed by `signer` (the same key, or not)."""
        algorithm = algorithm or offered.get_name()
        blob = Message()
        blob.add_string(self.transport.session_id)
        blob.add_byte(cMSG_USERAUTH_REQUEST)
        blob.add_string(user)
        blob.add_string("ssh-connection")
        blob.add_string("publickey")
        blob.add_boolean(True)
        blob.add_string(algorithm)
        blob.add_string(offered.asbytes())
        signature = _sign(signer, blob.asbytes(), algorithm)
        m = self._request(user, "publickey")
        m.add_boolean(True)
        m.add_string(algorithm)
        m.add_string(offered.asbytes())
        m.add_string(signature)
        return self.send(m)

    def hostbased(self, user, key):
        """A properly signed hostbased request (capsule must refuse the method)."""
        blob = Message()
        blob.add_string(self.transport.session_id)
        blob.add_byte(cMSG_USERAUTH_REQUEST)
        blob.add_string(user)
        blob.add_string("ssh-connection")
        blob.add_string("hostbased")
        blob.add_string(key.get_name())
        blob.add_string(key.asbytes())
        blob.add_string("localhost.")
        blob.add_string(user)
        signature = _sign(key, blob.asbytes(), key.get_name())
        m = self._request(user, "hostbased")
        m.add_string(key.get_name())
        m.add_string(key.asbytes())
        m.add_string("localhost.")
        m.add_string(user)
        m.add_string(signature)
        return self.send(m)


def _sign(key, data, algorithm):
    if isinstance(key, paramiko.RSAKey):
        return key.sign_ssh_data(data, algorithm).asbytes()
    return key.sign_ssh_data(data).asbytes()
