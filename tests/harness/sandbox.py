# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A throwaway directory tree in which tests run fake agents and look-alikes.

Layout under root: home/ ($HOME), tmp/ ($TMPDIR), work/ (the cwd), bin/
(copies of the workload under agent and look-alike names) and fifo/.
"""

import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from .build import WORKLOAD

# Exit status of the workload when an action is not available on this architecture.
EXIT_UNSUPPORTED = 77


class Unsupported(Exception):
    """The workload cannot perform an action on this architecture."""


def new_uuid():
    return str(uuid.uuid4())


class Fifo:
    """A named pipe that the test keeps open, for wait= and signal= actions.

    The test keeps its own read-write descriptor open, so bytes written
    before the workload opens the FIFO are not lost and the workload never
    blocks in open().
    """

    def __init__(self, path):
        self.path = Path(path)
        os.mkfifo(self.path, 0o666)
        self.fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)

    def __str__(self):
        return str(self.path)

    def release(self, n=1):
        """Let n wait= actions on this FIFO continue."""
        os.write(self.fd, b"g" * n)

    def wait(self, timeout_s=10.0, processes=()):
        """Wait for one signal= byte. Raises AssertionError on timeout.

        processes are Agents; if one of them exits with an error first, its
        stderr goes into the message.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.fd], [], [], 0.05)
            if readable:
                os.read(self.fd, 1)
                return
            for process in processes:
                if process.poll() not in (None, 0):
                    raise AssertionError(
                        f"{process.name} exited with {process.returncode} before "
                        f"signalling {self.path}:\n{process.stderr_text()}"
                    )
        raise AssertionError(f"no signal on {self.path} within {timeout_s} s")

    def close(self):
        os.close(self.fd)


class Agent:
    """A running workload process: a fake agent, a look-alike or a helper."""

    def __init__(self, name, popen, stdout_path, stderr_path):
        self.name = name
        self.popen = popen
        self.pid = popen.pid
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path

    @property
    def returncode(self):
        return self.popen.returncode

    def poll(self):
        return self.popen.poll()

    def stdout_text(self):
        return self.stdout_path.read_text(errors="replace")

    def stderr_text(self):
        return self.stderr_path.read_text(errors="replace")

    def finish(self, timeout_s=30.0):
        """Wait for the exit and return stdout.

        Raises Unsupported on exit status 77 and AssertionError on any
        other non-zero status, with the workload's stderr.
        """
        try:
            code = self.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.name} (pid {self.pid}) still running after {timeout_s} s"
            ) from None
        if code == EXIT_UNSUPPORTED:
            raise Unsupported(self.stderr_text().strip())
        if code != 0:
            raise AssertionError(
                f"{self.name} (pid {self.pid}) exited with {code}:\n{self.stderr_text()}"
            )
        return self.stdout_text()


class Listeners:
    """TCP listeners on 127.0.0.1 and ::1 and a unix stream listener.

    Each accepts and closes connections on a thread until close().
    """

    def __init__(self, unix_path):
        self.unix_path = str(unix_path)
        self.sockets = []
        self.ipv4_port = self._listen(socket.AF_INET, ("127.0.0.1", 0))[1]
        self.ipv6_port = self._listen(socket.AF_INET6, ("::1", 0))[1]
        self._listen(socket.AF_UNIX, self.unix_path)
        self.closed_ipv4_port = self._unused_port(socket.AF_INET, "127.0.0.1")
        self.closed_ipv6_port = self._unused_port(socket.AF_INET6, "::1")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _listen(self, family, address):
        sock = socket.socket(family, socket.SOCK_STREAM)
        if family != socket.AF_UNIX:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
        sock.setblocking(False)
        self.sockets.append(sock)
        return sock.getsockname()

    @staticmethod
    def _unused_port(family, host):
        """Return a port that had no listener a moment ago, for refused connects."""
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            return sock.getsockname()[1]

    def _accept_loop(self):
        while not self._stop.is_set():
            readable, _, _ = select.select(self.sockets, [], [], 0.05)
            for sock in readable:
                try:
                    conn, _ = sock.accept()
                except (BlockingIOError, OSError):
                    continue
                conn.close()

    def close(self):
        self._stop.set()
        self._thread.join()
        for sock in self.sockets:
            sock.close()


class Sandbox:
    """A temp tree, the agents started in it and the cleanup of both."""

    def __init__(self, prefix="ccapm-it-"):
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        # Look-alikes and agents run as other users in some tests.
        os.chmod(self.root, 0o755)
        self.home = self.root / "home"
        self.tmp = self.root / "tmp"
        self.work = self.root / "work"
        self.bin = self.root / "bin"
        self.fifo_dir = self.root / "fifo"
        self.log_dir = self.root / "log"
        for path in (self.home, self.tmp, self.work, self.bin, self.fifo_dir, self.log_dir):
            path.mkdir()
        self.agents = []
        self.fifos = []
        self.listeners = None
        self.extra_paths = []  # files outside root that a test created

    # ---- programs ----------------------------------------------------------

    def install(self, name, directory=None):
        """Copy the workload to directory/name (default bin/) and return the path."""
        directory = Path(directory) if directory else self.bin
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / name
        shutil.copyfile(WORKLOAD, path)
        os.chmod(path, 0o755)
        return path

    def script(self, name, interpreter, directory=None):
        """Write an executable script directory/name whose shebang runs interpreter."""
        directory = Path(directory) if directory else self.bin
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / name
        path.write_text(f"#!{interpreter}\n")
        os.chmod(path, 0o755)
        return path

    def env(self, **extra):
        """Return a clean environment: no CLAUDE_* variables leak in from the caller."""
        env = {
            "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            "LANG": "C",
        }
        env.update({key: str(value) for key, value in extra.items()})
        return env

    def start(self, program, actions=(), cwd=None, env=None, argv=None, wrapper=()):
        """Start program with the given actions and return an Agent.

        argv replaces the whole argument list when given (argv[0] included).
        """
        program = str(program)
        if argv is None:
            argv = [program, *actions]
        name = f"{Path(program).name}-{len(self.agents)}"
        stdout_path = self.log_dir / f"{name}.stdout"
        stderr_path = self.log_dir / f"{name}.stderr"
        with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
            popen = subprocess.Popen(
                [*wrapper, *argv] if wrapper else argv,
                executable=None if wrapper else program,
                cwd=str(cwd or self.work),
                env=env if env is not None else self.env(),
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )
        agent = Agent(name, popen, stdout_path, stderr_path)
        self.agents.append(agent)
        return agent

    def run(self, program, actions=(), **kwargs):
        """Start program, wait for it and return its stdout (see Agent.finish)."""
        return self.start(program, actions, **kwargs).finish()

    # ---- helpers -----------------------------------------------------------

    def fifo(self, name):
        fifo = Fifo(self.fifo_dir / name)
        self.fifos.append(fifo)
        return fifo

    def listen(self):
        """Start the loopback listeners once and return them."""
        if self.listeners is None:
            self.listeners = Listeners(self.root / "listener.sock")
        return self.listeners

    def session_filter(self, extra_ids=()):
        """Return a settle filter: sessions whose agent cwd is under root, plus extra_ids."""
        root = str(self.root)
        extra = set(extra_ids)

        def select_sessions(metrics):
            ids = set(extra)
            for session_id, labels in metrics.session_info().items():
                cwd = labels.get("cwd", "")
                if cwd == root or cwd.startswith(root + "/"):
                    ids.add(session_id)
            return ids

        return select_sessions

    def sessions(self, metrics):
        """Return the session_ids whose agent cwd is under root."""
        return self.session_filter()(metrics)

    # ---- cleanup -----------------------------------------------------------

    def _own_pids(self):
        """Return pids of live processes whose executable lies under root."""
        pids = []
        root = str(self.root) + "/"
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                exe = os.readlink(f"/proc/{entry}/exe")
            except OSError:
                continue
            if exe.startswith(root):
                pids.append(int(entry))
        return pids

    def kill_processes(self):
        """Kill, by pid, the agents started here and any descendants left running."""
        for agent in self.agents:
            if agent.poll() is None:
                agent.popen.kill()
                agent.popen.wait()
        for pid in self._own_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self):
        self.kill_processes()
        if self.listeners:
            self.listeners.close()
        for fifo in self.fifos:
            fifo.close()
        for path in self.extra_paths:
            path = Path(path)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        # Make every directory writable again: some tests remove write permission.
        for directory, _, _ in os.walk(self.root):
            try:
                mode = os.lstat(directory).st_mode
                os.chmod(directory, stat.S_IMODE(mode) | stat.S_IWUSR | stat.S_IXUSR)
            except OSError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)
