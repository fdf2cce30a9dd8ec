"""A TCP proxy on 127.0.0.1 that cuts a connection at a chosen point of the conversation:
after the client's n-th command containing a marker (``b"FETCH"``, ``b"MOVE"``), it lets a
given number of bytes of the server's answer through, then resets both sides. A network
failure in the middle of a reply, placed exactly, with the real server behind it."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass

HOST = "127.0.0.1"


@dataclass
class _Cut:
    marker: bytes
    occurrence: int
    after_bytes: int
    forward_command: bool
    seen: int = 0
    done: bool = False


class CuttingProxy:
    """Forwards every connection to ``(host, port)``; :meth:`cut` arms one cut."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.host = HOST
        self._listener = socket.create_server((HOST, 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._cut: _Cut | None = None
        self.cuts_done = 0
        self._closing = False
        self._sockets: list[socket.socket] = []
        self._accepter = threading.Thread(target=self._accept_loop, daemon=True)
        self._accepter.start()

    def cut(self, marker: bytes, occurrence: int = 1, after_bytes: int = 0,
            forward_command: bool = True) -> None:
        """Cut the connection that sends the *occurrence*-th command containing *marker*
        (counted from now, over all connections). With *forward_command* the server gets
        the command and *after_bytes* bytes of its answer reach the client before the
        reset; without it the server never sees the command."""
        with self._lock:
            self._cut = _Cut(marker, occurrence, after_bytes, forward_command)

    def close(self) -> None:
        self._closing = True
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()

    def __enter__(self) -> CuttingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            link = _Link(self, client, server)
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=link.client_to_server, daemon=True).start()
            threading.Thread(target=link.server_to_client, daemon=True).start()

    # called by the links, under no lock of theirs
    def _on_client_data(self, data: bytes) -> _Cut | None:
        """The armed cut if *data* is the command that triggers it (then disarmed)."""
        with self._lock:
            cut = self._cut
            if cut is None or cut.marker not in data:
                return None
            cut.seen += 1
            if cut.seen < cut.occurrence:
                return None
            self._cut = None
            self.cuts_done += 1
            return cut


class _Link:
    """One proxied connection: two pumping threads."""

    def __init__(self, proxy: CuttingProxy, client: socket.socket,
                 server: socket.socket) -> None:
        self.proxy, self.client, self.server = proxy, client, server
        self._budget: int | None = None  # bytes of server answer left before the reset
        self._lock = threading.Lock()
        self._dead = False

    def client_to_server(self) -> None:
        while not self._dead:
            try:
                data = self.client.recv(65536)
            except OSError:
                break
            if not data:
                break
            cut = self.proxy._on_client_data(data)
            if cut is not None and not cut.forward_command:
                self.reset()
                return
            if cut is not None:
                with self._lock:
                    self._budget = cut.after_bytes
            try:
                self.server.sendall(data)
            except OSError:
                break
        self.reset()

    def server_to_client(self) -> None:
        while not self._dead:
            try:
                data = self.server.recv(65536)
            except OSError:
                break
            if not data:
                break
            with self._lock:
                budget = self._budget
                if budget is not None:
                    data = data[:budget]
                    self._budget = budget - len(data)
            try:
                if data:
                    self.client.sendall(data)
            except OSError:
                break
            if budget is not None and self._budget == 0:
                self.reset()
                return
        self.reset()

    def reset(self) -> None:
        """RST towards the client (as a dropped network path looks), close both sides."""
        with self._lock:
            if self._dead:
                return
            self._dead = True
        with contextlib.suppress(OSError):
            self.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
