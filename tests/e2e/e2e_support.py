# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Setup for the end-to-end suite: Claude Code, the mock API, the namespace.

Claude Code only ever runs inside a network namespace with nothing but
loopback up, next to the mock API, with a throwaway HOME and TMPDIR. The
npm registry is contacted only by `npm install`, outside the namespace,
when the cache under tests/.cache/ lacks a version.
"""

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

import strace_log
from harness import TRACER

E2E_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(E2E_DIR))
CACHE = os.path.join(REPO, "tests", ".cache", "claude-code")
MOCK = os.path.join(E2E_DIR, "mock_api.py")

NATIVE_VERSION = "2.1.332"
NODE_VERSION = "1.0.128"
PACKAGE = "@anthropic-ai/claude-code"

IP = shutil.which("ip") or "/usr/sbin/ip"
STRACE = shutil.which("strace") or "/usr/bin/strace"

# npm error codes that mean the registry could not be reached, as opposed
# to a registry that returned an error.
UNREACHABLE = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET",
               "ETIMEDOUT", "ENETUNREACH", "EHOSTUNREACH", "ERR_SOCKET_TIMEOUT")

ALLOWED_TOOLS = "Bash,Write,Edit,Read,Grep,Glob"

STRACE_SYSCALLS = ("%process,%file,connect,close,dup,dup2,dup3,fcntl,"
                   "fchdir,prctl")

CLI_TIMEOUT_S = 90


class SetupError(Exception):
    """A prerequisite of the suite is broken (not merely unavailable)."""


# Namespaces and processes still alive, for the exit handler: a runner
# that dies without running the test cleanups must not leave them behind.
_live_namespaces = set()
_live_processes = set()


def _clean_up_at_exit():
    for process in list(_live_processes):
        if process.poll() is None:
            process.kill()
            process.wait()
    for namespace in list(_live_namespaces):
        namespace.remove()


atexit.register(_clean_up_at_exit)


def start_process(argv, **kwargs):
    """Start argv with Popen and register it for the exit handler."""
    process = subprocess.Popen(argv, **kwargs)
    _live_processes.add(process)
    return process


def end_process(process, sig=signal.SIGTERM, timeout=5):
    """Send sig to process, kill it after timeout seconds, and reap it."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    _live_processes.discard(process)


def package_dir(version):
    return os.path.join(CACHE, version)


def cli_path(version):
    """Return the `claude` command that npm installed for version."""
    return os.path.join(package_dir(version), "node_modules", ".bin", "claude")


def installed_version(version):
    manifest = os.path.join(package_dir(version), "node_modules",
                            "@anthropic-ai", "claude-code", "package.json")
    try:
        with open(manifest, encoding="utf-8") as f:
            return json.load(f).get("version")
    except (OSError, ValueError):
        return None


def check_native_binary(version):
    """Raise SetupError unless bin/claude.exe is the real ELF binary.

    The package ships a placeholder that its postinstall script replaces
    with the platform binary, and npm can be configured to skip scripts.
    """
    path = os.path.join(package_dir(version), "node_modules", "@anthropic-ai",
                        "claude-code", "bin", "claude.exe")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"\x7fELF":
        raise SetupError(f"{path} is not an ELF binary, so the package's "
                         f"postinstall script did not run. Allow npm install "
                         f"scripts, delete {package_dir(version)} and rerun")


def install_claude_code(version):
    """Install Claude Code at version into the cache, or reuse it there.

    Returns the path of its `claude` command. Raises unittest.SkipTest when
    the npm registry cannot be reached and SetupError for other failures.
    """
    if installed_version(version) == version and os.path.exists(
            cli_path(version)):
        if not version.startswith("1."):
            check_native_binary(version)
        return cli_path(version)

    npm = shutil.which("npm")
    if npm is None:
        raise SetupError("npm not found: run scripts/install-packages test")
    target = package_dir(version)
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    command = [npm, "install", "--prefix", target, "--no-fund", "--no-audit",
               "--no-save", "--fetch-retries=1", "--fetch-timeout=60000",
               f"{PACKAGE}@{version}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=300)
    except subprocess.TimeoutExpired:
        shutil.rmtree(target, ignore_errors=True)
        raise unittest.SkipTest(f"npm registry not reachable: installing "
                                f"{PACKAGE}@{version} timed out after 300 s")
    if done.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        output = done.stdout + done.stderr
        errors = [line for line in output.splitlines()
                  if line.startswith(("npm ERR!", "npm error"))]
        reason = " ".join(errors[:2]) or output.strip()[-300:]
        if any(code in output for code in UNREACHABLE):
            raise unittest.SkipTest(f"npm registry not reachable: {reason}")
        raise SetupError(f"npm install {PACKAGE}@{version} failed: {reason}")
    if installed_version(version) != version:
        raise SetupError(f"npm install {PACKAGE}@{version} installed "
                         f"{installed_version(version)} instead")
    if not version.startswith("1."):
        check_native_binary(version)
    return cli_path(version)


def check_prerequisites():
    """Raise unittest.SkipTest or SetupError if the suite cannot run."""
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root: network namespaces and BPF")
    for tool in (IP, STRACE):
        if not os.access(tool, os.X_OK):
            raise SetupError(f"{tool} not found: run "
                             f"scripts/install-packages test")
    if not os.access(TRACER, os.X_OK):
        raise SetupError(f"{TRACER} not found: run make first")


class Namespace:
    """A network namespace with only loopback up, removed by remove()."""

    def __init__(self):
        self.name = f"ccapm-e2e-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.created = False

    def create(self):
        subprocess.run([IP, "netns", "add", self.name], check=True)
        self.created = True
        _live_namespaces.add(self)
        subprocess.run([IP, "-n", self.name, "link", "set", "lo", "up"],
                       check=True)
        links = subprocess.run([IP, "-n", self.name, "-o", "link", "show"],
                               check=True, capture_output=True,
                               text=True).stdout
        names = re.findall(r"^\d+:\s+([^:@]+)", links, re.M)
        if names != ["lo"]:
            raise SetupError(f"namespace {self.name} has links {names}, "
                             f"expected only lo")
        routes = subprocess.run(
            [IP, "-n", self.name, "route", "show", "table", "all"],
            check=True, capture_output=True, text=True).stdout
        for route in routes.splitlines():
            if "dev lo" not in route:
                raise SetupError(f"namespace {self.name} has a route that "
                                 f"is not on lo: {route}")

    def wrap(self, argv):
        """Return argv prefixed so that it runs inside the namespace."""
        return [IP, "netns", "exec", self.name] + list(argv)

    def pids(self):
        if not self.created:
            return []
        out = subprocess.run([IP, "netns", "pids", self.name],
                             capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def remove(self):
        """Kill what still runs inside, then delete the namespace."""
        if not self.created:
            return
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for _ in range(50):
            if not self.pids():
                break
            time.sleep(0.1)
        done = subprocess.run([IP, "netns", "del", self.name],
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(f"e2e: failed to delete network namespace {self.name}: "
                  f"{done.stderr.strip()}. Remove it with "
                  f"`ip netns del {self.name}`.", file=sys.stderr)
        self.created = False
        _live_namespaces.discard(self)


class MockApi:
    """The mock Messages API, running inside a namespace."""

    def __init__(self, namespace, directory):
        self.namespace = namespace
        self.port_file = os.path.join(directory, "mock.port")
        self.log = os.path.join(directory, "mock.log")
        self.process = None
        self.port = None

    def start(self):
        command = self.namespace.wrap([sys.executable, MOCK, "--port-file",
                                       self.port_file, "--log", self.log])
        with open(self.log + ".stderr", "wb") as err:
            self.process = start_process(command, stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.port_file):
            if self.process.poll() is not None:
                raise SetupError(f"mock API exited with status "
                                 f"{self.process.returncode}")
            if time.monotonic() > deadline:
                raise SetupError("mock API did not start within 10 s")
            time.sleep(0.05)
        with open(self.port_file, encoding="utf-8") as f:
            self.port = int(f.read())

    def stop(self):
        if self.process:
            end_process(self.process)

    def requests(self):
        """Return the logged requests as dicts, oldest first."""
        try:
            with open(self.log, encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []


# Claude Code 2.1.332 puts its messaging socket at
# ${XDG_RUNTIME_DIR:-$TMPDIR}/cc-socks/<pid>.sock, or at
# /tmp/cc-socks-<uid>/<pid>.sock when that path would be longer than 103
# bytes (read from the code in its binary). A TMPDIR of this length, with
# XDG_RUNTIME_DIR unset, forces the fallback.
LONG_TMPDIR_BYTES = 100


class Workspace:
    """A throwaway HOME, TMPDIR and work directory for one CLI run.

    long_tmpdir makes TMPDIR long enough for the messaging socket fallback.
    """

    def __init__(self, root, name, long_tmpdir=False):
        self.root = os.path.join(root, name)
        self.home = os.path.join(self.root, "home")
        self.tmp = os.path.join(self.root, "tmp")
        if long_tmpdir:
            self.tmp += "-" + "t" * max(0, LONG_TMPDIR_BYTES - len(self.tmp))
        self.work = os.path.join(self.root, "work")
        for path in (self.home, self.tmp, self.work):
            os.makedirs(path)
        self.strace_log = os.path.join(self.root, "strace.log")

    def config_dir(self):
        return os.path.join(self.home, ".claude")

    def transcripts(self):
        """Return {uuid: path} for every transcript in the config dir."""
        found = {}
        projects = os.path.join(self.config_dir(), "projects")
        for dirpath, _, files in os.walk(projects):
            for name in files:
                stem, ext = os.path.splitext(name)
                if ext == ".jsonl" and re.fullmatch(r"[0-9a-f-]{36}", stem):
                    found[stem] = os.path.join(dirpath, name)
        return found


def transcript_session_ids(path):
    """Return the set of sessionId values recorded in a transcript."""
    ids = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("sessionId"):
                ids.add(entry["sessionId"])
    return ids


def cli_env(workspace, port):
    """Return the environment Claude Code runs with: offline, throwaway."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workspace.home,
        "TMPDIR": workspace.tmp,
        "LANG": "C.UTF-8",
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ANTHROPIC_API_KEY": "sk-ant-e2e-not-a-real-key",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
    }


def prompt(script, workspace, port):
    """Return a prompt that selects script in the mock."""
    return (f"Follow the test script. ccapm-e2e script={script} "
            f"workdir={workspace.work} port={port}")


class CliRun:
    """One Claude Code process tree, started inside the namespace."""

    def __init__(self, namespace, mock, workspace, binary, script,
                 extra_args=(), strace=True, strace_log=None):
        self.workspace = workspace
        self.strace_log = strace_log or workspace.strace_log
        argv = [binary, "-p", prompt(script, workspace, mock.port),
                "--allowedTools", ALLOWED_TOOLS] + list(extra_args)
        if strace:
            argv = [STRACE, "-f", "-y", "-s", "4096", "-o",
                    self.strace_log, "-e", f"trace={STRACE_SYSCALLS}",
                    "--"] + argv
        self.stdout_path = os.path.join(workspace.root, "stdout.txt")
        self.stderr_path = os.path.join(workspace.root, "stderr.txt")
        with open(self.stdout_path, "w") as out, \
                open(self.stderr_path, "w") as err:
            self.process = start_process(
                namespace.wrap(argv), cwd=workspace.work,
                env=cli_env(workspace, mock.port), stdin=subprocess.DEVNULL,
                stdout=out, stderr=err)

    def wait(self, timeout=CLI_TIMEOUT_S):
        """Wait for the CLI to exit, and raise AssertionError unless with 0."""
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            end_process(self.process, signal.SIGKILL)
            raise AssertionError(f"Claude Code did not exit within "
                                 f"{timeout} s; see {self.workspace.root}")
        _live_processes.discard(self.process)
        if status != 0:
            raise AssertionError(f"Claude Code exited with status {status}: "
                                 f"{self.stderr()[-2000:]}")
        return status

    def kill(self):
        end_process(self.process, signal.SIGKILL)

    def stdout(self):
        with open(self.stdout_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def trace(self):
        """Return the parsed strace log of the whole process tree."""
        return strace_log.load(self.strace_log, self.workspace.work)


class CommSampler(threading.Thread):
    """Records, in order, the comm values of each child of a process.

    Under strace the agent is a child of strace, so this follows the
    agent's comm from before its exec to its exit. The agent is not always
    strace's first child, so every child gets its own record.
    """

    def __init__(self, parent_pid, period_s=0.02):
        super().__init__(daemon=True)
        self.parent_pid = parent_pid
        self.period_s = period_s
        self.comms = {}
        self._done = threading.Event()

    def _children(self):
        path = f"/proc/{self.parent_pid}/task/{self.parent_pid}/children"
        try:
            with open(path, encoding="ascii") as f:
                return [int(pid) for pid in f.read().split()]
        except OSError:
            return []

    def run(self):
        while not self._done.is_set():
            for pid in self._children():
                try:
                    with open(f"/proc/{pid}/comm", encoding="utf-8") as f:
                        comm = f.read().strip()
                except OSError:
                    continue
                comms = self.comms.setdefault(pid, [])
                if not comms or comms[-1] != comm:
                    comms.append(comm)
            self._done.wait(self.period_s)

    def stop(self):
        self._done.set()
        self.join()


def make_root():
    """Return a fresh directory for one test's workspaces and logs."""
    return tempfile.mkdtemp(prefix="ccapm-e2e-")
