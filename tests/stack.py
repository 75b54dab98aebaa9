"""The app as it is deployed, for tests and benches: `kaart serve` (gunicorn, several workers)
behind nginx (deploy/nginx.conf), and a PostgreSQL cluster of its own that a test may restart.

    with Stack(database_url) as stack:     # stack.url: through nginx; stack.app_url: gunicorn
        ...
    with PrivateCluster() as cluster:      # cluster.url("wijkkaart"), .restart(), .stop()
        ...

Both run as child processes in their own process groups and are stopped, children included, on
leaving the `with` (or by `stop()`). Their logs go to a temporary folder; a start that fails
raises StackError with the end of those logs.
"""

from __future__ import annotations

import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kaart import ROOT

NGINX_SITE = ROOT / "deploy" / "nginx.conf"
# Process-wide settings for a private nginx; the site itself is deploy/nginx.conf, unchanged.
NGINX_MAIN = """\
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/nginx-access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/site.conf;
}}
"""
# Only the access-log line changes (it names the worker that answered); the command is production's.
ACCESS_LOG_FORMAT = 'worker=%(p)s %(h)s "%(r)s" %(s)s'


class StackError(RuntimeError):
    """A part of the stack is missing or did not come up."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise StackError("nginx is not installed: run `make test` (scripts/system-packages test)")
    return found


def render_site(upstream: str, listen: str, tiles_dir: Path) -> str:
    """deploy/nginx.conf with its ${WIJKKAART_*} values filled in, as the nginx image does."""
    values = {
        "WIJKKAART_UPSTREAM": upstream,
        "WIJKKAART_LISTEN": listen,
        "WIJKKAART_TILES_DIR": str(tiles_dir),
    }
    return re.sub(r"\$\{(WIJKKAART_\w+)\}", lambda m: values[m.group(1)], NGINX_SITE.read_text())


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path.name}: nothing written)"
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return f"--- {path.name} ---\n" + "\n".join(text)


def _stop_group(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop a process started with its own session, and everything it started."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


class Stack:
    """gunicorn (`kaart serve`, `workers` workers) on a free port, nginx in front on another.

    No KAART_SECRET_KEY: the workers share the secret the app keeps in its state folder, as on
    `make run`. `env` adds or overrides KAART_* settings (a low rate limit, say)."""

    def __init__(self, database_url: str, env: dict[str, str] | None = None, workers: int = 2):
        self.database_url = database_url
        self.extra_env = env or {}
        self.workers = workers
        # Under /tmp and readable: nginx's worker runs as `nobody` when we are root.
        self.dir = Path(tempfile.mkdtemp(prefix="wijkkaart-stack-"))
        self.dir.chmod(0o755)
        self.state_dir = self.dir / "state"
        self.upload_dir = self.dir / "uploads"
        self.tiles_dir = self.dir / "tiles"  # KAART_TILES_DIR, served by nginx itself
        self.app_port, self.port = free_port(), free_port()
        self.app_url = f"http://127.0.0.1:{self.app_port}"
        self.url = f"http://127.0.0.1:{self.port}"
        self.gunicorn: subprocess.Popen | None = None
        self.nginx: subprocess.Popen | None = None

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KAART_", "GUNICORN_"))}
        env.update(
            {
                "KAART_DATABASE_URL": self.database_url,
                "KAART_TRUSTED_PROXIES": "1",
                "KAART_BASEMAP_URL": "",  # no network
                "KAART_STATE_DIR": str(self.state_dir),
                "KAART_UPLOAD_DIR": str(self.upload_dir),
                "KAART_TILES_DIR": str(self.tiles_dir),
                "GUNICORN_CMD_ARGS": f"--access-logformat '{ACCESS_LOG_FORMAT}'",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60) -> None:
        kaart = Path(sys.executable).with_name("kaart")
        if not kaart.exists():
            raise StackError(f"{kaart} not found: run `make setup`")
        command = [str(kaart), "serve", "--host", "127.0.0.1", "--port", str(self.app_port)]
        command += ["--workers", str(self.workers)]
        with open(self.dir / "gunicorn.log", "wb") as log:
            self.gunicorn = subprocess.Popen(
                command,
                env=self.environment(),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._start_nginx()
        self.wait_until_healthy(timeout)

    def _start_nginx(self) -> None:
        nginx = nginx_binary()
        self.tiles_dir.mkdir(exist_ok=True)
        site = render_site(f"127.0.0.1:{self.app_port}", f"127.0.0.1:{self.port}", self.tiles_dir)
        (self.dir / "site.conf").write_text(site)
        (self.dir / "nginx.conf").write_text(NGINX_MAIN.format(dir=self.dir))
        command = [nginx, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf")]
        command += ["-e", str(self.dir / "nginx-error.log"), "-g", "daemon off;"]
        with open(self.dir / "nginx.out", "wb") as log:
            self.nginx = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_until_healthy(self, timeout: float = 60) -> None:
        """Until /healthz answers 200 through nginx; StackError with the logs if it does not."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            for name, process in (("gunicorn", self.gunicorn), ("nginx", self.nginx)):
                if process is not None and process.poll() is not None:
                    raise StackError(f"{name} exited with {process.returncode}\n{self.logs()}")
            try:
                status, body = self.get("/healthz")
            except OSError as exc:
                last = repr(exc)
            else:
                if status == 200:
                    return
                last = f"{status} {body[:200]!r}"
            time.sleep(0.2)
        raise StackError(f"the stack did not become healthy in {timeout} s ({last})\n{self.logs()}")

    def get(self, path: str, timeout: float = 10) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def worker_pids(self) -> set[int]:
        """gunicorn's current worker processes (the master's children)."""
        assert self.gunicorn is not None
        children = Path(f"/proc/{self.gunicorn.pid}/task/{self.gunicorn.pid}/children")
        return {int(pid) for pid in children.read_text().split()}

    def access_log_mark(self) -> int:
        """Where gunicorn's log ends now (for `workers_that_answered(since=...)`)."""
        return (self.dir / "gunicorn.log").stat().st_size

    def workers_that_answered(self, since: int = 0) -> set[int]:
        """The workers named in gunicorn's access log (after the mark `since`)."""
        with open(self.dir / "gunicorn.log", "rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
        return {int(pid) for pid in re.findall(r"^worker=<?(\d+)>? ", text, re.MULTILINE)}

    def logs(self) -> str:
        names = ("gunicorn.log", "nginx.out", "nginx-error.log")
        return "\n".join(_tail(self.dir / name) for name in names)

    def stop(self) -> None:
        # nginx first, so nothing new reaches gunicorn; SIGINT is gunicorn's quick stop.
        if self.nginx is not None:
            _stop_group(self.nginx, signal.SIGTERM)
        if self.gunicorn is not None:
            _stop_group(self.gunicorn, signal.SIGINT)
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateCluster:
    """A PostgreSQL/PostGIS cluster of its own in a temporary folder, on a Unix socket only, so a
    test may stop and restart it without touching the cluster the rest of the suite uses. As
    root the server runs as `postgres` (PostgreSQL refuses to run as root), like
    scripts/pgcluster."""

    def __init__(self) -> None:
        versions = sorted(
            Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
        )
        if not versions:
            raise StackError("PostgreSQL server binaries not found: run `make test`")
        self.bin = versions[-1]
        self.as_root = os.geteuid() == 0
        self.owner = "postgres" if self.as_root else pwd.getpwuid(os.geteuid()).pw_name
        # Short: the socket path must stay under 108 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="wijkkaart-pg-"))
        self.data = self.dir / "data"
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")

    def __enter__(self) -> PrivateCluster:
        try:
            self.init()
            self.start()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.remove()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.owner}@/{database}?host={self.dir}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, cwd="/", capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            log = _tail(self.dir / "server.log")
            raise StackError(f"{' '.join(args[:2])} failed: {done.stderr.strip()}\n{log}")

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", self.owner, "-A", "trust",
            "--encoding=UTF8", "--locale=C.UTF-8",
        )  # fmt: skip

    def start(self) -> None:
        # fsync off: this cluster holds throw-away test data, and stops are always clean (fast).
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.dir}' "
            "-c max_connections=200 -c fsync=off"
        )
        log = str(self.dir / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", log, "-w", "-t", "60", "-o", options, "start"
        )

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, open transactions rolled back."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        # The log again: without it the new server would write to our pipe and hold it open.
        log = str(self.dir / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-m", "fast", "-w", "restart")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
