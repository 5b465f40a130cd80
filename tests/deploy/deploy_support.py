# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Shared helpers for the deployment tests: paths, processes, servers,
fake agents, sandboxes and parsers for the deploy/ artifacts."""

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS_DIR = os.path.join(REPO, "tests", "deploy")
CACHE_DIR = os.path.join(REPO, "tests", ".cache")
BINARY = os.path.join(REPO, "build", "ccapm-trace")
RULES = os.path.join(REPO, "deploy", "prometheus", "ccapm-rules.yml")
RULES_TEST = os.path.join(TESTS_DIR, "ccapm-rules.test.yml")
DASHBOARD = os.path.join(REPO, "deploy", "grafana", "ccapm-dashboard.json")
DAEMONSET = os.path.join(REPO, "deploy", "kubernetes", "daemonset.yaml")
DOCKERFILE = os.path.join(REPO, "Dockerfile")
UNIT = os.path.join(REPO, "deploy", "systemd", "ccapm-trace.service")
MAN_PAGE = os.path.join(REPO, "man", "ccapm-trace.8")
VALIDATOR_DIR = os.path.join(TESTS_DIR, "k8s-validator")

# The capabilities that the DaemonSet and the systemd unit grant. Each one is
# shown to be needed by test_live_deploy.
LEAST_CAPABILITIES = ["BPF", "PERFMON", "SYS_PTRACE", "DAC_READ_SEARCH"]

# Every metric family that the tracer writes, with its type.
FAMILIES = {
    "ccapm_commands_total": "counter",
    "ccapm_file_ops_total": "counter",
    "ccapm_network_connects_total": "counter",
    "ccapm_commands_per_minute": "gauge",
    "ccapm_file_ops_per_minute": "gauge",
    "ccapm_network_connects_per_minute": "gauge",
    "ccapm_actions_per_minute": "gauge",
    "ccapm_session_info": "gauge",
    "ccapm_sessions_active": "gauge",
    "ccapm_events_lost_total": "counter",
    "ccapm_processes_untracked_total": "counter",
    "ccapm_session_table_full_total": "counter",
}

NOBODY_UID = 65534
NOBODY_GID = 65534


def run(argv, check=True, **kwargs):
    """Run argv, capture text output, and raise with the output on failure."""
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited with {result.returncode}\n"
                             f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def require_tool(testcase, name):
    """Fail the test with the package to install when a program is missing."""
    path = shutil.which(name)
    if path is None:
        testcase.fail(f"{name} not found in PATH: run scripts/install-packages test")
    return path


def require_binary(testcase):
    if not os.access(BINARY, os.X_OK):
        testcase.fail(f"{BINARY} not found: run make first")
    return BINARY


def live_skip_reason():
    """Return why live tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "live tests load BPF programs and need root"
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return "the kernel exposes no BTF at /sys/kernel/btf/vmlinux"
    return None


def free_port():
    """Return a TCP port that is free on 127.0.0.1 at the time of the call."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout_s, interval_s=0.2, message="condition"):
    """Poll predicate until it returns a true value, and return that value."""
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, ValueError, KeyError, urllib.error.URLError) as error:
            last_error = error
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {message}"
                         + (f" (last error: {last_error})" if last_error else ""))


def http_get(url, timeout_s=5):
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return response.read().decode()


def make_tempdir(testcase, prefix):
    """Create a directory that the test removes when it ends, even on failure."""
    path = tempfile.mkdtemp(prefix=prefix)
    testcase.addCleanup(shutil.rmtree, path, ignore_errors=True)
    return path


class Process:
    """A child process started by a test, stopped by its pid."""

    def __init__(self, argv, log_path, **kwargs):
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.popen = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, **kwargs)
        self.pid = self.popen.pid

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as log:
            return log.read()

    def running(self):
        return self.popen.poll() is None

    def stop(self, timeout_s=10):
        """Send SIGTERM, wait, then SIGKILL. Return the exit status."""
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait()
        self.log.close()
        return self.popen.returncode


def start_process(testcase, argv, log_path, **kwargs):
    process = Process(argv, log_path, **kwargs)
    testcase.addCleanup(process.stop)
    return process


def class_process(cls, argv, log_path, **kwargs):
    """Start a process owned by a TestCase class, stopped in tearDownClass."""
    process = Process(argv, log_path, **kwargs)
    cls.addClassCleanup(process.stop)
    return process


# --- Prometheus text format -------------------------------------------------

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text):
    """Parse the text format into (samples, help, types).

    samples is a list of (name, labels dict, float value)."""
    samples, helps, types = [], {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, doc = line[len("# HELP "):].partition(" ")
            helps[name] = doc
        elif line.startswith("# TYPE "):
            name, _, kind = line[len("# TYPE "):].partition(" ")
            types[name] = kind
        elif line and not line.startswith("#"):
            match = SAMPLE_RE.match(line)
            if not match:
                raise ValueError(f"invalid sample line: {line!r}")
            labels = {key: value.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                      for key, value in LABEL_RE.findall(match.group(2) or "")}
            samples.append((match.group(1), labels, float(match.group(3))))
    return samples, helps, types


def find_samples(samples, name, **labels):
    return [(sample_labels, value) for sample_name, sample_labels, value in samples
            if sample_name == name
            and all(sample_labels.get(key) == want for key, want in labels.items())]


def sample_value(samples, name, **labels):
    """Return the value of the one sample that matches, or None if none does."""
    found = find_samples(samples, name, **labels)
    if len(found) > 1:
        raise AssertionError(f"{len(found)} samples match {name} {labels}: {found}")
    return found[0][1] if found else None


def read_textfile(directory):
    with open(os.path.join(directory, "ccapm.prom")) as textfile:
        return parse_exposition(textfile.read())[0]


# --- The tracer and a fake agent ---------------------------------------------

def wait_for_textfile(directory, process, timeout_s=30):
    """Wait until the tracer has written directory/ccapm.prom and return its path."""
    path = os.path.join(directory, "ccapm.prom")

    def ready():
        if not process.running():
            raise AssertionError(f"ccapm-trace exited with {process.popen.returncode}:\n"
                                 f"{process.output()}")
        return os.path.exists(path)

    try:
        wait_until(ready, timeout_s, message=f"{path} to appear")
    except AssertionError as error:
        raise AssertionError(f"{error}\nccapm-trace output, last lines:\n"
                             + "\n".join(process.output().splitlines()[-20:])) from None
    return path


class FakeAgent:
    """A copy of /bin/sh named claude that runs a known workload.

    The agent waits on a FIFO before its workload and on another after it,
    so a test decides when each phase runs. The workload is two commands
    (/bin/true twice) and one file write (a shell redirection to out.txt),
    with no other exec, file operation or connect."""

    COMMANDS = 2
    FILE_WRITES = 1
    SCRIPT = ('read line < "$CCAPM_TEST_GO"\n'
              '/bin/true\n'
              '/bin/true\n'
              'echo done > "$CCAPM_TEST_WORK/out.txt"\n'
              'read line < "$CCAPM_TEST_END"\n')

    def __init__(self, add_cleanup, root, session_id, id_in_argv=True, as_nobody=False,
                 registry=False):
        """Prepare the agent under root, a directory the test owns.

        add_cleanup is the test's addCleanup or addClassCleanup, which stops
        the agent. With id_in_argv the session id is given as --session-id.
        With registry it is written to <home>/.claude/sessions/<pid>.json,
        the agent's live registry, private to the agent's user."""
        self.add_cleanup = add_cleanup
        self.root = root
        self.session_id = session_id
        self.id_in_argv = id_in_argv
        self.as_nobody = as_nobody
        self.registry = registry
        self.bin_dir = os.path.join(root, "bin")
        self.work = os.path.join(root, "work")
        self.home = os.path.join(root, "home")
        self.go_fifo = os.path.join(root, "go.fifo")
        self.end_fifo = os.path.join(root, "end.fifo")
        self.exe = os.path.join(self.bin_dir, "claude")
        for directory in (self.bin_dir, self.work, self.home):
            os.makedirs(directory)
        shutil.copy2("/bin/sh", self.exe)
        os.mkfifo(self.go_fifo, 0o666)
        os.mkfifo(self.end_fifo, 0o666)
        os.chmod(self.go_fifo, 0o666)
        os.chmod(self.end_fifo, 0o666)
        os.chmod(root, 0o755)
        os.chmod(self.bin_dir, 0o755)
        if as_nobody:
            os.chown(self.work, NOBODY_UID, NOBODY_GID)
            os.chown(self.home, NOBODY_UID, NOBODY_GID)
        else:
            os.chmod(self.work, 0o755)
        os.chmod(self.home, 0o700)
        self.process = None

    @property
    def user(self):
        return "nobody" if self.as_nobody else "root"

    def start(self):
        argv = [self.exe, "-c", self.SCRIPT]
        if self.id_in_argv:
            argv += ["--session-id", self.session_id]
        if self.as_nobody:
            argv = ["setpriv", f"--reuid={NOBODY_UID}", f"--regid={NOBODY_GID}",
                    "--clear-groups", "--"] + argv
        env = {"PATH": "/usr/bin:/bin", "HOME": self.home,
               "CCAPM_TEST_GO": self.go_fifo, "CCAPM_TEST_END": self.end_fifo,
               "CCAPM_TEST_WORK": self.work}
        self.process = Process(argv, os.path.join(self.root, "agent.log"), cwd=self.work,
                               env=env)
        self.add_cleanup(self.process.stop)
        self.add_cleanup(self.finish)
        wait_until(self._exec_done, 15, message="the fake agent to exec claude")
        if self.registry:
            self._write_registry()
        return self.process.pid

    def _exec_done(self):
        return os.readlink(f"/proc/{self.process.pid}/exe") == self.exe

    def _write_registry(self):
        config = os.path.join(self.home, ".claude")
        sessions = os.path.join(config, "sessions")
        os.makedirs(sessions)
        path = os.path.join(sessions, f"{self.process.pid}.json")
        with open(path, "w") as registry:
            json.dump({"pid": self.process.pid, "sessionId": self.session_id,
                       "cwd": self.work, "status": "idle"}, registry)
        for entry in (config, sessions):
            os.chmod(entry, 0o700)
        os.chmod(path, 0o600)
        if self.as_nobody:
            for entry in (config, sessions, path):
                os.chown(entry, NOBODY_UID, NOBODY_GID)

    def _release(self, fifo):
        def opened():
            try:
                return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as error:
                if not self.process.running():
                    raise AssertionError(f"the fake agent exited early:\n"
                                         f"{self.process.output()}") from error
                return None
        fd = wait_until(opened, 10, interval_s=0.05, message=f"the fake agent to read {fifo}")
        os.write(fd, b"go\n")
        os.close(fd)

    def run_workload(self):
        self._release(self.go_fifo)
        wait_until(lambda: os.path.exists(os.path.join(self.work, "out.txt")), 10,
                   message="the fake agent's workload")

    def finish(self):
        """Let the agent exit and return its status."""
        if self.process is None or not self.process.running():
            return None
        try:
            self._release(self.end_fifo)
            return self.process.popen.wait(timeout=10)
        except (AssertionError, subprocess.TimeoutExpired):
            return self.process.stop()


# --- Sandboxes built from the DaemonSet and the systemd unit ------------------

def sandbox_script(binds=(), readonly_binds=(), hidden=(), writable=(), readonly_root=True,
                   umask=None, exec_argv=()):
    """Return a shell script that sets up mounts in a private mount namespace
    and then executes exec_argv.

    binds are (source, target) read-write bind mounts. readonly_binds are
    paths bound read-only onto themselves, and hidden paths get an empty
    tmpfs. With readonly_root, every mount except /proc, /dev and the
    targets in binds and writable is remounted read-only, as a container
    runtime or ProtectSystem=strict does. Every remount uses "bind", so it
    changes only this namespace's mounts and never a file system's flags."""
    quote = shlex.quote
    lines = ["set -eu"]
    for source, target in binds:
        lines.append(f"mount --bind {quote(source)} {quote(target)}")
    for path in readonly_binds:
        lines.append(f"mount --bind {quote(path)} {quote(path)}")
        lines.append(f"mount -o remount,bind,ro {quote(path)}")
    for path in hidden:
        lines.append(f"mount -t tmpfs -o mode=0755,size=1m ccapm-test-empty {quote(path)}")
    keep = [target for _, target in binds] + list(writable)
    if readonly_root:
        cases = "|".join(quote(path) for path in keep + ["/proc", "/proc/*", "/dev", "/dev/*"])
        lines += [
            "awk '{ print $5 }' /proc/self/mountinfo | sort -u | while read -r mount_point; do",
            f"\tcase \"$mount_point\" in {cases}) continue ;; esac",
            "\tmount -o remount,bind,ro \"$mount_point\" 2>/dev/null || true",
            "done",
            # The root must be read-only, or the sandbox is not what it claims.
            "if touch /.ccapm-sandbox-probe 2>/dev/null; then"
            " rm -f /.ccapm-sandbox-probe; echo 'sandbox: / is still writable' >&2; exit 97; fi",
        ]
    if umask is not None:
        lines.append(f"umask {umask}")
    lines.append("exec " + " ".join(quote(arg) for arg in exec_argv))
    return "\n".join(lines) + "\n"


def setpriv_argv(capabilities, no_new_privs):
    """Return a setpriv prefix that limits root to capabilities, the way a
    container runtime's capability list or CapabilityBoundingSet= does."""
    caps = ",".join(["-all"] + ["+" + cap.lower() for cap in capabilities])
    argv = ["setpriv", f"--bounding-set={caps}", "--inh-caps=-all"]
    if no_new_privs:
        argv.append("--no-new-privs")
    return argv + ["--"]


# --- Kubernetes validator and YAML -------------------------------------------

def validator_modules(testcase):
    """Install the validator's npm packages into tests/.cache once per
    package-lock.json, and return the directory that holds node_modules."""
    require_tool(testcase, "node")
    require_tool(testcase, "npm")
    with open(os.path.join(VALIDATOR_DIR, "package-lock.json"), "rb") as lock:
        digest = hashlib.sha256(lock.read()).hexdigest()[:16]
    target = os.path.join(CACHE_DIR, f"k8s-validator-{digest}")
    if os.path.isdir(os.path.join(target, "node_modules", "kubernetes-models")):
        return target
    staging = target + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(os.path.join(VALIDATOR_DIR, name), staging)
    run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=staging)
    shutil.rmtree(target, ignore_errors=True)
    os.rename(staging, target)
    return target


def validate_manifests(testcase, *paths):
    """Run the validator on paths and return its CompletedProcess."""
    modules = validator_modules(testcase)
    return run(["node", os.path.join(VALIDATOR_DIR, "validate.cjs"), modules, *paths],
               check=False)


def yaml_documents(testcase, path):
    """Parse a YAML file into a list of documents with the npm yaml package."""
    modules = validator_modules(testcase)
    result = run(["node", os.path.join(VALIDATOR_DIR, "validate.cjs"), modules, "--to-json", path])
    return json.loads(result.stdout)


def daemonset(testcase):
    for document in yaml_documents(testcase, DAEMONSET):
        if document.get("kind") == "DaemonSet":
            return document
    testcase.fail(f"{DAEMONSET} has no DaemonSet")


# --- Dockerfile, Makefile and systemd unit parsers ----------------------------

def dockerfile_stages(path=DOCKERFILE):
    """Parse a Dockerfile into stages: a list of dicts with base, name and
    instructions, each instruction an (INSTRUCTION, argument) pair with
    line continuations joined."""
    stages = []
    with open(path) as dockerfile:
        text = dockerfile.read()
    logical, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1].strip() + " "
            continue
        logical.append(current + stripped)
        current = ""
    for line in logical:
        instruction, _, argument = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            words = argument.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append({"base": words[0], "name": name, "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((instruction, argument.strip()))
    return stages


def make_recipe(*targets, variables=()):
    """Return the commands `make -n` prints for targets, one per line."""
    result = run(["make", "--no-print-directory", "-n", *targets, *variables], cwd=REPO)
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def unit_settings(path=UNIT):
    """Parse a systemd unit into {section: {key: [values in order]}}."""
    settings, section = {}, None
    with open(path) as unit:
        for line in unit:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                section = settings.setdefault(line[1:-1], {})
                continue
            key, _, value = line.partition("=")
            section.setdefault(key.strip(), []).append(value.strip())
    return settings


def syscall_group(name, seen=None):
    """Expand a systemd system call group such as @system-service into names."""
    seen = set() if seen is None else seen
    if name in seen:
        return set()
    seen.add(name)
    result = run(["systemd-analyze", "syscall-filter", name])
    calls = set()
    for line in result.stdout.splitlines()[1:]:
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if entry.startswith("@"):
            calls |= syscall_group(entry, seen)
        else:
            calls.add(entry)
    return calls


# --- Grafana ------------------------------------------------------------------

def grafana_regex_escape(value):
    """Escape a variable value as Grafana's Prometheus data source does for
    a multi-value variable, including the backslashes of the PromQL string."""
    return re.sub(r'([\\^$*+?.()|{}\[\]])', r'\\\\\1', value)


def expand_dashboard_query(expr, host, session, range_s, rate_interval_s):
    """Replace Grafana's variables in a panel query the way Grafana does."""
    for name, value in (("host", host), ("session", session)):
        expr = expr.replace("${" + name + "}", value).replace("$" + name, value)
    expr = expr.replace("$__rate_interval", f"{rate_interval_s}s")
    expr = expr.replace("$__range", f"{range_s}s")
    return expr


def dashboard_targets(dashboard):
    """Yield (panel, target) for every query of every panel, rows included."""
    def walk(panels):
        for panel in panels:
            yield panel
            yield from walk(panel.get("panels", []))
    for panel in walk(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            yield panel, target


# --- Prometheus server ----------------------------------------------------------

class PrometheusApi:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path, **params):
        query = urllib.parse.urlencode(params, doseq=True)
        try:
            body = http_get(f"{self.base}{path}?{query}")
        except urllib.error.HTTPError as error:
            body = error.read().decode()
        return json.loads(body)

    def query(self, expr, at=None):
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self.get("/api/v1/query", **params)

    def query_range(self, expr, start, end, step_s):
        return self.get("/api/v1/query_range", query=expr, start=f"{start:.3f}",
                        end=f"{end:.3f}", step=str(step_s))

    def vector(self, expr, at=None):
        """Return the result of an instant query, raising on a query error."""
        response = self.query(expr, at)
        if response.get("status") != "success":
            raise AssertionError(f"query {expr!r} failed: {response}")
        return response["data"]["result"]

    def scalar_of(self, expr, at=None):
        """Return the value of the single series expr returns, or None."""
        result = self.vector(expr, at)
        if not result:
            return None
        if len(result) != 1:
            raise AssertionError(f"query {expr!r} returned {len(result)} series: {result}")
        return float(result[0]["value"][1])
