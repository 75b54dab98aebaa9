"""One keep-alive HTTP connection to an app under test, as a browser tab would hold."""

from __future__ import annotations

import http.client


class KeepAlive:
    def __init__(self, port: int, timeout: float = 60):
        self.port = port
        self.timeout = timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def get(self, path: str, ok: tuple[int, ...] = (200,)) -> tuple[int, bytes]:
        """GET `path`; stops the bench when the status is not one of `ok`."""
        try:
            self.conn.request("GET", path)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):  # the server closed an idle connection
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.conn.request("GET", path)
            response = self.conn.getresponse()
        body = response.read()
        if response.status not in ok:
            raise SystemExit(f"bench: GET {path} answered {response.status}: {body[:300]!r}")
        return response.status, body

    def close(self) -> None:
        self.conn.close()
