# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""End-to-end tests: the real Claude Code CLI traced by ccapm-trace.

Claude Code 2.1.332 (the native Bun binary) and 1.0.128 (the last Node.js
release) run offline against mock_api.py inside a loopback-only network
namespace, while build/ccapm-trace rewrites ccapm.prom every second. Most
runs happen under `strace -f`, whose log is the reference for what the
process tree really did. The expected work-directory file operations are
also fixed below from what each script's tools do, so a failure shows
whether Claude Code changed or ccapm-trace miscounted.

Needs root. Run with `make e2e`, `python3 tests/run.py e2e` or
`python3 -m unittest discover tests/e2e`.
"""

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest
import uuid

E2E_DIR = os.path.dirname(os.path.abspath(__file__))
for path in (E2E_DIR, os.path.dirname(E2E_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)

import e2e_support  # noqa: E402  (needs the sys.path entries above)
import harness  # noqa: E402

# File operations of the tool script in its work directory, both versions:
#   mkdir 1:  `mkdir out` in the Bash call.
#   write 3:  `echo hello > out/hello.txt` (bash opens O_CREAT|O_TRUNC),
#             the Write tool's temp file notes.txt.tmp.<pid>.<suffix>, and
#             the Edit tool's temp file of the same form.
#   rename 2: Write and Edit each rename their temp file over notes.txt
#             (2.1.332 through /proc/self/fd/N/, 1.0.128 by absolute path).
#   delete 0: nothing in the work directory is removed.
TOOLS_WORK_OPS = {"write": 3, "rename": 2, "delete": 0, "mkdir": 1}

# The Bash call of the tool script starts bash, then mkdir, ls, curl and
# cat: a floor for commands, whatever helpers Claude Code adds.
TOOLS_MIN_COMMANDS = 5

# The API connection and curl's fetch of /ping from the mock.
TOOLS_MIN_IPV4_CONNECTS = 2

# The search script: Grep and Glob only read, and Bash runs
# `echo found > found.txt`.
SEARCH_WORK_OPS = {"write": 1, "rename": 0, "delete": 0, "mkdir": 0}

# The resume script: `echo again > again.txt`.
RESUME_WORK_OPS = {"write": 1, "rename": 0, "delete": 0, "mkdir": 0}

# The wait script after the tracer started: `echo late > late.txt`.
WAIT_WORK_OPS = {"write": 1, "rename": 0, "delete": 0, "mkdir": 0}

NO_WORK_OPS = {"write": 0, "rename": 0, "delete": 0, "mkdir": 0}

FILE_OPS = ("write", "rename", "delete", "mkdir")
FAMILIES = ("ipv4", "ipv6", "unix")

# argv[0] values the native binary can give itself when it re-executes for
# the Grep and Glob tools. 2.1.332 was seen using rg for both.
SEARCH_REEXEC_NAMES = ("rg", "bfs", "ugrep")

env = {}


def stop_on_sigterm(signum, frame):
    # unittest records SystemExit as an error and goes on, but it stops the
    # run on KeyboardInterrupt, after which the exit handlers clean up.
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def setUpModule():
    e2e_support.check_prerequisites()
    env["native"] = e2e_support.install_claude_code(
        e2e_support.NATIVE_VERSION)
    env["node"] = e2e_support.install_claude_code(e2e_support.NODE_VERSION)

    # SIGTERM must still stop the run and delete the namespace.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, stop_on_sigterm)
        unittest.addModuleCleanup(signal.signal, signal.SIGTERM,
                                  signal.SIG_DFL)

    root = e2e_support.make_root()
    env["root"] = root
    unittest.addModuleCleanup(remove_root, root)
    atexit.register(remove_root, root)

    namespace = e2e_support.Namespace()
    unittest.addModuleCleanup(namespace.remove)
    namespace.create()
    env["namespace"] = namespace

    mock = e2e_support.MockApi(namespace, root)
    unittest.addModuleCleanup(mock.stop)
    mock.start()
    env["mock"] = mock

    env["tracer"] = start_tracer()
    unittest.addModuleCleanup(env["tracer"].close)


def start_tracer():
    tracer = harness.Tracer(interval_s=1, args=("-v",))
    # close() stops the tracer and removes its directories, and is safe to
    # call again after a test cleanup did.
    atexit.register(tracer.close)
    try:
        tracer.start()
    except BaseException:
        tracer.close()
        raise
    return tracer


def read_registry_id(path):
    """Return the sessionId in an agent's registry file, or None."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("sessionId")
    except (OSError, ValueError):
        return None


def remove_root(root):
    """Delete the workspaces under root, unless CCAPM_E2E_KEEP=1 is set.

    Runs from the module cleanup and again at exit, in case the run was
    stopped; the second call does nothing.
    """
    if not os.path.isdir(root) or env.get("kept") == root:
        return
    if os.environ.get("CCAPM_E2E_KEEP") == "1":
        print(f"\ne2e: kept {root}", file=sys.stderr)
        env["kept"] = root
        return
    shutil.rmtree(root, ignore_errors=True)


def count_ops(ops):
    counts = dict(NO_WORK_OPS)
    for op in ops:
        counts[op.op] += 1
    return counts


def is_documented_bookkeeping(path, workspace):
    """Tell whether path is bookkeeping by the rules ccapm-trace documents."""
    home = workspace.home
    tmp = workspace.tmp
    prefixes = (workspace.config_dir() + "/", f"{tmp}/claude-{os.getuid()}/",
                f"{tmp}/cc-socks/")
    if path == workspace.config_dir() or path.startswith(prefixes):
        return True
    if path in (f"{tmp}/claude-{os.getuid()}", f"{tmp}/cc-socks"):
        return True
    if path.startswith(f"{home}/.claude.json"):
        return True
    cwd_file = r"/claude-[0-9a-f]+-cwd"
    return (re.fullmatch("/tmp" + cwd_file, path) is not None
            or re.fullmatch(re.escape(tmp) + cwd_file, path) is not None)


def other_countable_ops(trace, workspace):
    """Return strace's file operations that ccapm-trace would also count.

    These are outside the work directory, not on /dev, /proc or /sys, and
    not bookkeeping by the documented rules. Failure messages list them,
    because they are the likely cause of a count that is off.
    """
    found = []
    for op in trace.file_ops:
        paths = op.path.split(" -> ")
        if any(p.startswith(workspace.work + "/") for p in paths):
            continue
        if all(p.startswith(("/dev/", "/proc/", "/sys/")) for p in paths):
            continue
        if all(is_documented_bookkeeping(p, workspace) for p in paths):
            continue
        found.append(op)
    return found


def describe_ops(ops):
    if not ops:
        return "none"
    return "; ".join(f"pid {o.pid} {o.syscall} {o.op} {o.path}" for o in ops)


def settle(ids):
    """Return the metrics once the series of the given session ids settle."""
    return env["tracer"].settle(lambda metrics: set(ids))


class ClaudeCodeCase(unittest.TestCase):
    """Shared steps: run a script, read the tracer, compare with strace."""

    maxDiff = None

    def workspace(self, name, long_tmpdir=False):
        return e2e_support.Workspace(env["root"], name, long_tmpdir)

    def start(self, workspace, binary, script, extra_args=(), strace=True,
              strace_log=None):
        run = e2e_support.CliRun(env["namespace"], env["mock"], workspace,
                                 binary, script, extra_args, strace,
                                 strace_log)
        self.addCleanup(run.kill)
        return run

    def assert_work_ops_as_scripted(self, trace, workspace, expected):
        """Check Claude Code itself: strace shows the scripted work."""
        self.assertEqual(trace.unresolved, [],
                         "the strace log parser lost track of these fds")
        ops = trace.file_ops_under(workspace.work)
        self.assertEqual(count_ops(ops), expected,
                         f"Claude Code's own work-directory operations "
                         f"differ from the script (a CLI change, not a "
                         f"tracer bug): {describe_ops(ops)}")

    def assert_session_counts(self, metrics, session_id, trace, workspace,
                              expected_ops):
        """Check one session's file ops, commands and connects exactly.

        expected_ops are the work-directory operations, everything else the
        session wrote being bookkeeping. Commands and connects must equal
        what strace saw the process tree do.
        """
        got = metrics.counts(session_id)
        hint = describe_ops(other_countable_ops(trace, workspace))
        for op, count in expected_ops.items():
            with self.subTest(op=op):
                self.assertEqual(
                    got[op], count,
                    f"ccapm_file_ops_total{{session_id={session_id}, "
                    f"op={op}}}: expected {count} (the work-directory "
                    f"operations), got {got[op]}; operations strace saw "
                    f"outside the work directory that are not documented "
                    f"bookkeeping: {hint}")

        commands = trace.commands()
        self.assertEqual(
            got["commands"], len(commands),
            f"ccapm_commands_total{{session_id={session_id}}}: strace saw "
            f"{len(commands)} execs after the agent's own start: "
            f"{[(e.pid, e.argv[:2]) for e in commands]}")

        strace_connects = trace.connects_by_family()
        for family in FAMILIES:
            with self.subTest(family=family):
                self.assertEqual(
                    got[family], strace_connects.get(family, 0),
                    f"ccapm_network_connects_total{{session_id={session_id},"
                    f" family={family}}}: strace saw {trace.connects}")

    def assert_agent_pid(self, metrics, session_id, pid):
        info = metrics.session_info()
        self.assertIn(session_id, info,
                      f"no ccapm_session_info for {session_id} in:\n"
                      f"{metrics.text}")
        self.assertEqual(info[session_id].get("pid"), str(pid))

    def assert_no_pid_series(self, metrics, pids):
        leftover = sorted(f"pid-{p}" for p in pids
                          if f"pid-{p}" in metrics.session_ids())
        self.assertEqual(leftover, [],
                         "series left under a pid-<pid> label after the "
                         "session id was known")

    def assert_sessions_of_pids(self, metrics, pids, expected_ids):
        """Check that the sessions started by pids are exactly expected_ids.

        ccapm_session_info carries the agent pid of every session, so a
        process of these trees that started a session of its own shows up.
        Other sessions on the machine are ignored.
        """
        started = {}
        for labels, _ in metrics.series("ccapm_session_info"):
            pid = labels.get("pid", "")
            if pid.isdigit() and int(pid) in pids:
                started[int(pid)] = labels["session_id"]
        self.assertEqual(set(started.values()), set(expected_ids),
                         f"sessions started by these process trees: "
                         f"{started}")


class NativeToolScriptTest(ClaudeCodeCase):
    """Claude Code 2.1.332 with --session-id, then resumed."""

    @classmethod
    def setUpClass(cls):
        cls.session_id = str(uuid.uuid4())
        cls.space = e2e_support.Workspace(env["root"], "native-tools")
        cls.cli = e2e_support.CliRun(env["namespace"], env["mock"],
                                     cls.space, env["native"], "tools",
                                     ["--session-id", cls.session_id])
        cls.addClassCleanup(cls.cli.kill)
        cls.cli.wait()
        cls.trace = cls.cli.trace()
        cls.metrics = settle({cls.session_id})

    def test_work_ops_as_scripted(self):
        self.assert_work_ops_as_scripted(self.trace, self.space,
                                         TOOLS_WORK_OPS)

    def test_write_edit_use_proc_fd(self):
        # 2.1.332 renames through a directory fd, which the tracer must resolve.
        with open(self.cli.strace_log, encoding="utf-8") as f:
            log = f.read()
        renames = re.findall(r'rename\("/proc/self/fd/\d+/notes\.txt\.tmp\.',
                             log)
        self.assertEqual(len(renames), 2)

    def test_session_counts(self):
        self.assert_session_counts(self.metrics, self.session_id, self.trace,
                                   self.space, TOOLS_WORK_OPS)

    def test_script_floors(self):
        counts = self.metrics.counts(self.session_id)
        self.assertGreaterEqual(counts["commands"], TOOLS_MIN_COMMANDS)
        self.assertGreaterEqual(counts["ipv4"], TOOLS_MIN_IPV4_CONNECTS)

    def test_session_info(self):
        self.assert_agent_pid(self.metrics, self.session_id,
                              self.trace.first_pid)
        self.assert_no_pid_series(self.metrics, self.trace.pids())
        self.assert_sessions_of_pids(self.metrics, self.trace.pids(),
                                     {self.session_id})

    def test_mock_saw_every_turn(self):
        notes = [r["note"] for r in env["mock"].requests()]
        for turn in range(4):
            self.assertIn(f"tools turn {turn}", notes)
        self.assertIn("ping", notes)

    def test_promtool_clean(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool not installed")
        done = subprocess.run([promtool, "check", "metrics"],
                              input=self.metrics.text, capture_output=True,
                              text=True)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)

    def test_resume_accumulates(self):
        before = settle({self.session_id})
        run = self.start(self.space, env["native"], "resume",
                         ["--resume", self.session_id],
                         strace_log=os.path.join(self.space.root,
                                                 "strace-resume.log"))
        run.wait()
        trace = run.trace()
        self.assert_work_ops_as_scripted(trace, self.space, RESUME_WORK_OPS)
        after = settle({self.session_id})

        self.assertEqual(set(self.space.transcripts()), {self.session_id},
                         "--resume wrote a transcript under another id")
        old = before.counts(self.session_id)
        new = after.counts(self.session_id)
        hint = describe_ops(other_countable_ops(trace, self.space))
        for op, count in RESUME_WORK_OPS.items():
            with self.subTest(op=op):
                self.assertEqual(new[op], old[op] + count,
                                 f"operations strace saw outside the work "
                                 f"directory that are not documented "
                                 f"bookkeeping: {hint}")
        self.assertEqual(new["commands"],
                         old["commands"] + len(trace.commands()))
        strace_connects = trace.connects_by_family()
        for family in FAMILIES:
            with self.subTest(family=family):
                self.assertEqual(new[family], old[family]
                                 + strace_connects.get(family, 0))
        self.assert_agent_pid(after, self.session_id, trace.first_pid)
        self.assert_no_pid_series(after, trace.pids())


class NativeLearnedIdTest(ClaudeCodeCase):
    """Claude Code 2.1.332 without --session-id, so the id comes from the
    transcript. Its long TMPDIR moves the messaging socket to
    /tmp/cc-socks-<uid>/."""

    def test_id_from_transcript(self):
        space = self.workspace("learned-id", long_tmpdir=True)
        run = self.start(space, env["native"], "tools")
        run.wait()
        trace = run.trace()

        transcripts = space.transcripts()
        self.assertEqual(len(transcripts), 1, transcripts)
        session_id, path = next(iter(transcripts.items()))
        self.assertEqual(e2e_support.transcript_session_ids(path),
                         {session_id})
        metrics = settle({session_id, f"pid-{trace.first_pid}"})

        self.assert_agent_pid(metrics, session_id, trace.first_pid)
        self.assert_no_pid_series(metrics, trace.pids())
        self.assert_sessions_of_pids(metrics, trace.pids(), {session_id})
        self.assert_work_ops_as_scripted(trace, space, TOOLS_WORK_OPS)
        self.assert_session_counts(metrics, session_id, trace, space,
                                   TOOLS_WORK_OPS)


class NativeTextOnlyTest(ClaudeCodeCase):
    """A script without tool calls writes nothing but bookkeeping. The long
    TMPDIR moves the messaging socket to /tmp/cc-socks-<uid>/."""

    def test_no_file_ops(self):
        session_id = str(uuid.uuid4())
        space = self.workspace("text-only", long_tmpdir=True)
        run = self.start(space, env["native"], "text",
                         ["--session-id", session_id])
        run.wait()
        trace = run.trace()
        metrics = settle({session_id})

        self.assert_agent_pid(metrics, session_id, trace.first_pid)
        self.assert_work_ops_as_scripted(trace, space, NO_WORK_OPS)
        counts = metrics.counts(session_id)
        self.assertEqual(
            sum(counts[op] for op in FILE_OPS), 0,
            f"file operations counted for a text-only session: {counts}; "
            f"operations strace saw outside the work directory that are not "
            f"documented bookkeeping: "
            f"{describe_ops(other_countable_ops(trace, space))}")
        self.assert_session_counts(metrics, session_id, trace, space,
                                   NO_WORK_OPS)


class NodeToolScriptTest(ClaudeCodeCase):
    """Claude Code 1.0.128, a Node.js script whose comm changes twice."""

    def test_tool_script(self):
        session_id = str(uuid.uuid4())
        space = self.workspace("node-tools")
        run = self.start(space, env["node"], "tools",
                         ["--session-id", session_id])
        sampler = e2e_support.CommSampler(run.process.pid)
        sampler.start()
        self.addCleanup(sampler.stop)
        run.wait()
        sampler.stop()
        trace = run.trace()
        metrics = settle({session_id})

        # The premise of this case: the agent's comm went node -> claude.
        comms = sampler.comms.get(trace.first_pid, [])
        self.assertIn("node", comms)
        self.assertIn("claude", comms[comms.index("node"):])
        self.assertTrue(trace.execs[0].path.endswith("/.bin/claude"))
        # The script's #! line makes the agent exec again as node.
        self.assertEqual(trace.agent_exec_count(), 2)

        self.assert_agent_pid(metrics, session_id, trace.first_pid)
        self.assert_no_pid_series(metrics, trace.pids())
        self.assert_sessions_of_pids(metrics, trace.pids(), {session_id})
        self.assert_work_ops_as_scripted(trace, space, TOOLS_WORK_OPS)
        self.assert_session_counts(metrics, session_id, trace, space,
                                   TOOLS_WORK_OPS)
        counts = metrics.counts(session_id)
        self.assertGreaterEqual(counts["commands"], TOOLS_MIN_COMMANDS)
        self.assertGreaterEqual(counts["ipv4"], TOOLS_MIN_IPV4_CONNECTS)


class ConcurrentSessionsTest(ClaudeCodeCase):
    """Two native sessions at once, one of them re-executing itself as rg."""

    def test_sessions_kept_apart(self):
        tools_id, search_id = str(uuid.uuid4()), str(uuid.uuid4())
        tools_space = self.workspace("concurrent-tools")
        search_space = self.workspace("concurrent-search")
        # Something for Grep to find, written by the test and not by a session.
        with open(os.path.join(search_space.work, "haystack.txt"), "w") as f:
            f.write("a needle in here\n")

        tools_run = self.start(tools_space, env["native"], "tools",
                               ["--session-id", tools_id])
        search_run = self.start(search_space, env["native"], "search",
                                ["--session-id", search_id])
        tools_run.wait()
        search_run.wait()
        tools_trace = tools_run.trace()
        search_trace = search_run.trace()
        metrics = settle({tools_id, search_id})

        reexecs = [e for e in search_trace.execs
                   if e.argv and e.argv[0] in SEARCH_REEXEC_NAMES]
        self.assertGreaterEqual(len(reexecs), 2,
                                "Grep and Glob did not re-execute the "
                                "binary, so the case tests nothing")

        self.assert_work_ops_as_scripted(tools_trace, tools_space,
                                         TOOLS_WORK_OPS)
        self.assert_work_ops_as_scripted(search_trace, search_space,
                                         SEARCH_WORK_OPS)
        self.assert_session_counts(metrics, tools_id, tools_trace,
                                   tools_space, TOOLS_WORK_OPS)
        self.assert_session_counts(metrics, search_id, search_trace,
                                   search_space, SEARCH_WORK_OPS)

        pids = tools_trace.pids() | search_trace.pids()
        self.assert_sessions_of_pids(metrics, pids, {tools_id, search_id})
        self.assert_agent_pid(metrics, tools_id, tools_trace.first_pid)
        self.assert_agent_pid(metrics, search_id, search_trace.first_pid)
        self.assert_no_pid_series(metrics, pids)


class StartedBeforeTracerTest(ClaudeCodeCase):
    """A session already running when ccapm-trace starts. The long TMPDIR
    moves the messaging socket to /tmp/cc-socks-<uid>/."""

    def test_found_at_startup(self):
        space = self.workspace("started-before", long_tmpdir=True)
        run = self.start(space, env["native"], "wait", strace=False)
        # `ip netns exec` executes the CLI in place, so this is the agent.
        agent_pid = run.process.pid

        # Wait until the Bash call is polling for the file go, and read the
        # session id from the registry file the agent writes.
        registry = os.path.join(space.config_dir(), "sessions",
                                f"{agent_pid}.json")
        deadline = time.monotonic() + 60
        session_id = None
        while session_id is None or not any(
                r["note"] == "wait turn 0" for r in env["mock"].requests()):
            self.assertIsNone(run.process.poll(), "Claude Code exited early")
            self.assertLess(time.monotonic(), deadline,
                            "the wait script's Bash call never started")
            time.sleep(0.1)
            session_id = read_registry_id(registry)

        tracer = start_tracer()
        self.addCleanup(tracer.close)
        # The first textfile is written after the /proc scan.
        self.assert_agent_pid(tracer.read(), session_id, agent_pid)
        # Let the polling loop start a few sleep commands while traced.
        time.sleep(0.5)

        open(os.path.join(space.work, "go"), "w").close()
        run.wait()
        self.assertEqual(set(space.transcripts()), {session_id})
        metrics = tracer.settle(
            lambda m: {session_id, f"pid-{agent_pid}"})

        self.assert_agent_pid(metrics, session_id, agent_pid)
        self.assert_no_pid_series(metrics, {agent_pid})
        counts = metrics.counts(session_id)
        self.assertEqual({op: counts[op] for op in FILE_OPS}, WAIT_WORK_OPS,
                         "only late.txt was written after the tracer "
                         "started; everything else is bookkeeping")
        # The polling loop keeps running sleep until go exists.
        self.assertGreaterEqual(counts["commands"], 1)


if __name__ == "__main__":
    unittest.main()
