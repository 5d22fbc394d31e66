"""The S3 test endpoint: a moto server process and the fake credentials the suite greps for."""

from __future__ import annotations

#: A distinctive fake secret: tests grep everything the product writes for it.
S3_SECRET = "FAKE-s3-secret-9d41c7e0-must-never-appear"
S3_KEY_ID = "AKIAFAKE0COMPLIANCE0"


def start_moto(env: dict[str, str] | None = None):
    """A moto S3 server in its own process on a free loopback port: (process, endpoint URL).

    Its own process: delta-rs holds the GIL while it waits on a request, so an in-process
    (threaded) server would never answer it.
    """
    import os
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("moto server did not start within 60 s")
