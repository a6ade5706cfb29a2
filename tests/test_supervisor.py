"""`python -m web.supervisor` as a user runs it: embedded Redis, gunicorn, rq worker, rq cron; and stopping.

The web server serves a stand-in WSGI app (PODPISANT_WSGI_APP) so these tests do not depend on the
application's database; everything else is the real thing.
"""

from __future__ import annotations

import ast
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pytest
from redis import Redis

from signing.config import PROJECT_ROOT
from signing.queues import RENEWALS

pytestmark = pytest.mark.slow

READY = "Podpisant is running at"
STANDIN_APP = """\
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"stand-in\\n"]
"""


# --- the process tree, from /proc ---------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(ppid, state, start time) of `pid`, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses
    return int(fields[1]), fields[0], int(fields[19])


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except (FileNotFoundError, ProcessLookupError):
        return []


class Seen(NamedTuple):
    """A process as seen in /proc: enough to recognise it later, even after it is gone."""

    ppid: int
    start: int
    argv: tuple[str, ...]


Tree = dict[int, Seen]


def descendants(root: int) -> Tree:
    """Every process below `root`, children and grandchildren alike."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[int, str, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            children.setdefault(stat[0], []).append(int(entry.name))
            stats[int(entry.name)] = stat
    found: Tree = {}
    pending = list(children.get(root, []))
    while pending:
        pid = pending.pop()
        found[pid] = Seen(stats[pid][0], stats[pid][2], tuple(_cmdline(pid)))
        pending.extend(children.get(pid, []))
    return found


def still_running(tree: Tree) -> list[int]:
    """Those of `tree` that still exist as the same, non-zombie process."""
    alive = []
    for pid, seen in tree.items():
        stat = _stat(pid)
        if stat is not None and stat[2] == seen.start and stat[1] != "Z":
            alive.append(pid)
    return alive


def merge(into: Tree, tree: Tree) -> None:
    """Add `tree` to `into`, keeping the command lines of processes that have since become zombies."""
    for pid, seen in tree.items():
        if seen.argv or pid not in into or into[pid].start != seen.start:
            into[pid] = seen


def assert_all_gone(pids: Tree, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while (left := still_running(pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"still running: {[(pid, ' '.join(_cmdline(pid))) for pid in left]}"


# --- running the supervisor ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Supervisor:
    process: subprocess.Popen[str]
    port: int
    instance: Path
    stderr_path: Path
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    output: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def socket_path(self) -> Path:
        return self.instance / "redis" / "redis.sock"

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if line.startswith(READY):
                assert line.rstrip("\n") == f"{READY} {self.base_url}  (Ctrl-C stops it)"
                return
        pytest.fail(f"supervisor never became ready (exit {self.process.poll()}):\n{self.stderr()}")

    def wait_exit(self, timeout: float = 20.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"supervisor still running {timeout:.0f} s later:\n{self.stderr()}")

    def tree(self) -> Tree:
        return descendants(self.process.pid)

    def settled_tree(self, timeout: float = 15.0) -> Tree:
        """The tree once gunicorn has booted both workers and the rq worker has forked its scheduler."""
        deadline = time.monotonic() + timeout
        while True:
            tree = self.tree()
            complete = len(_named(tree, "gunicorn")) == 3 and len(_named(tree, "rq", "worker")) == 2
            if complete or time.monotonic() > deadline:
                return tree
            time.sleep(0.1)

    def redis(self) -> Redis[bytes]:
        return Redis(unix_socket_path=str(self.socket_path), socket_timeout=5)


def _pump(stream: Iterator[str], into: queue.Queue[str], keep: list[str]) -> None:
    for line in stream:
        keep.append(line)
        into.put(line)


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., Supervisor]]:
    """Start `python -m web.supervisor` against a fresh instance directory; whatever is left is stopped."""
    (tmp_path / "standin_app.py").write_text(STANDIN_APP)
    started: list[Supervisor] = []

    def _launch(instance: Path | None = None, port: int | None = None, **extra_env: str) -> Supervisor:
        instance = instance or tmp_path / "instance"
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(
            INSTANCE_DIR=str(instance),
            PORT=str(port or free_port()),
            HOST="127.0.0.1",
            PODPISANT_ENV="development",
            DATABASE_URL=f"sqlite:///{tmp_path}/t.db",
            PODPISANT_WSGI_APP="standin_app:app",
            PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")])),
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env)
        stderr_path = tmp_path / f"supervisor-{len(started)}.err"
        with stderr_path.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "web.supervisor"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        supervisor = Supervisor(process, int(env["PORT"]), instance, stderr_path)
        assert process.stdout is not None
        threading.Thread(target=_pump, args=(process.stdout, supervisor.lines, supervisor.output), daemon=True).start()
        started.append(supervisor)
        return supervisor

    yield _launch

    for supervisor in started:
        left = supervisor.tree()
        if supervisor.process.poll() is None:
            supervisor.process.send_signal(signal.SIGTERM)
            try:
                supervisor.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                supervisor.process.kill()
                supervisor.process.wait()
        for pid in still_running(left):
            os.kill(pid, signal.SIGKILL)


def healthz_status(base_url: str) -> int:
    with urllib.request.urlopen(f"{base_url}/healthz", timeout=5) as response:  # noqa: S310 - http://127.0.0.1
        status: int = response.status
        return status


def _named(tree: Tree, *words: str) -> list[int]:
    return [pid for pid, seen in tree.items() if all(any(word in arg for arg in seen.argv) for word in words)]


# --- the tests ----------------------------------------------------------------------------------------------


def _leave_stale_socket(path: Path) -> None:
    """A socket file nobody listens on, as a Redis killed with SIGKILL leaves behind."""
    path.parent.mkdir(parents=True)
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(path))
    assert path.is_socket()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_starts_everything_and_stops_it_on_a_signal(
    launch: Callable[..., Supervisor], tmp_path: Path, signum: int
) -> None:
    _leave_stale_socket(tmp_path / "instance" / "redis" / "redis.sock")
    supervisor = launch()
    supervisor.wait_ready()

    assert healthz_status(supervisor.base_url) == 200
    assert supervisor.socket_path.is_socket()
    tree = supervisor.settled_tree()
    assert len(_named(tree, "redis-server")) == 1
    assert len(_named(tree, "gunicorn")) == 3  # the master and its two workers
    assert len(_named(tree, "rq", "worker")) == 2  # the worker and its scheduler (--with-scheduler)
    assert len(_named(tree, "rq", "cron")) == 1

    redis = supervisor.redis()
    try:
        deadline = time.monotonic() + 20
        while not redis.zcard("rq:cron_schedulers") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert redis.zcard("rq:cron_schedulers") == 1, "rq cron never registered itself"
        from rq import Queue

        job = Queue("default", connection=redis).enqueue("signing.jobs.record_cron_tick")
        deadline = time.monotonic() + 20
        while job.get_status(refresh=True) != "finished" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert job.get_status() == "finished", supervisor.stderr()
        assert redis.get("podpisant:cron:last_tick") == str(job.return_value()).encode()
        renewals = Queue(RENEWALS, connection=redis).enqueue("signing.jobs.record_cron_tick")  # served too
        deadline = time.monotonic() + 20
        while renewals.get_status(refresh=True) != "finished" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert renewals.get_status() == "finished", supervisor.stderr()
    finally:
        redis.close()

    supervisor.process.send_signal(signum)
    assert supervisor.wait_exit() == 0
    assert_all_gone(tree)
    assert not supervisor.socket_path.exists()  # Redis shut down cleanly and removed it
    assert (supervisor.instance / "redis" / "data" / "dump.rdb").exists()  # ... and saved its data


def test_a_child_dying_stops_everything(launch: Callable[..., Supervisor]) -> None:
    supervisor = launch()
    supervisor.wait_ready()
    tree = supervisor.settled_tree()
    (worker,) = [pid for pid in _named(tree, "rq", "worker") if tree[pid].ppid == supervisor.process.pid]

    os.kill(worker, signal.SIGKILL)

    assert supervisor.wait_exit() == 1
    assert "worker exited unexpectedly with code -9" in supervisor.stderr()
    assert_all_gone(tree)


def test_a_web_server_that_cannot_start_stops_redis_too(launch: Callable[..., Supervisor]) -> None:
    supervisor = launch(PODPISANT_WSGI_APP="no_such_module:app")
    collected: Tree = {}
    while supervisor.process.poll() is None:
        merge(collected, supervisor.tree())
        time.sleep(0.05)
    assert supervisor.wait_exit() == 1
    assert "web exited unexpectedly" in supervisor.stderr()
    assert not any(line.startswith(READY) for line in supervisor.output)
    assert _named(collected, "redis-server")  # Redis had started before gunicorn gave up
    assert_all_gone(collected)


def test_a_busy_port_is_refused_before_anything_starts(launch: Callable[..., Supervisor]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        supervisor = launch(port=taken.getsockname()[1])
        assert supervisor.wait_exit() == 1
    assert "cannot listen on 127.0.0.1:" in supervisor.stderr()
    assert not supervisor.socket_path.exists()


def test_a_second_run_on_the_same_instance_is_refused(launch: Callable[..., Supervisor]) -> None:
    first = launch()
    first.wait_ready()
    second = launch(instance=first.instance)
    assert second.wait_exit() == 1
    assert "a Redis already answers on" in second.stderr()
    assert healthz_status(first.base_url) == 200  # the first one is untouched
    assert first.socket_path.is_socket()


def test_the_supervisor_module_does_not_import_flask() -> None:
    tree = ast.parse((PROJECT_ROOT / "web" / "supervisor.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.split(".")[0] in {"flask", "web"}}
