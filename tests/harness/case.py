# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The base class of the integration tests: one tracer per class, one sandbox per test."""

import os
import unittest

from .build import TRACER, build_workload
from .prom import expected_counts
from .sandbox import Sandbox, Unsupported, new_uuid
from .tracer import Tracer


def agent_ancestor():
    """Return 'pid (exe)' of an ancestor that looks like a Claude Code agent, or None.

    Every process such an ancestor's tree starts belongs to its session, so
    fake agents started from inside it never start sessions of their own.
    """
    pid = os.getppid()
    while pid > 1:
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{pid}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return None
        argv1 = argv[1].decode(errors="replace") if len(argv) > 1 else ""
        if (
            os.path.basename(exe) in ("claude", "claude.exe")
            or "/claude/versions/" in exe
            or os.path.basename(argv1) == "claude"
            or argv1.endswith("@anthropic-ai/claude-code/cli.js")
        ):
            return f"{pid} ({exe})"
        pid = parent
    return None


def require_integration_environment():
    """Raise SkipTest or AssertionError unless integration tests can run here."""
    if os.geteuid() != 0:
        raise unittest.SkipTest("integration tests load BPF programs and need root: run sudo make test")
    ancestor = agent_ancestor()
    if ancestor:
        raise unittest.SkipTest(
            f"the tests run inside the Claude Code agent {ancestor}, so every fake agent "
            "would belong to that session: run them from a shell outside Claude Code"
        )
    if not TRACER.exists():
        raise AssertionError(f"{TRACER} not found: run make first")
    build_workload()


class TracerTestCase(unittest.TestCase):
    """Starts one tracer for the class and a fresh Sandbox for every test.

    Subclasses set tracer_options (keyword arguments of Tracer) to change
    the tracer's flags, or shared_tracer = False to start their own with
    start_tracer().
    """

    tracer_options = {}
    shared_tracer = True
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        require_integration_environment()
        cls.tracer = None
        if not cls.shared_tracer:
            return
        tracer = Tracer(**cls.tracer_options)
        try:
            tracer.start()
        except BaseException:
            tracer.close()
            raise
        cls.tracer = tracer

    @classmethod
    def tearDownClass(cls):
        if cls.tracer:
            cls.tracer.close()

    def setUp(self):
        self.sandbox = Sandbox()
        self.addCleanup(self.sandbox.close)
        self.claude = self.sandbox.install("claude")

    def start_tracer(self, **options):
        """Start a tracer for this test only; it stops at cleanup."""
        tracer = Tracer(**options)
        self.addCleanup(tracer.close)
        tracer.start()
        self.tracer = tracer
        return tracer

    # ---- running workloads -------------------------------------------------

    def finish(self, agent, timeout_s=30.0):
        """Wait for agent like Agent.finish, turning Unsupported into a skip."""
        try:
            return agent.finish(timeout_s)
        except Unsupported as e:
            self.skipTest(f"the workload cannot run here: {e}")

    def run_workload(self, actions, program=None, **kwargs):
        """Run a workload to completion and return its Agent."""
        agent = self.sandbox.start(program or self.claude, actions, **kwargs)
        self.finish(agent)
        return agent

    def settle(self, extra_ids=()):
        return self.tracer.settle(self.sandbox.session_filter(extra_ids))

    def run_session(self, actions, program=None, **kwargs):
        """Run one fake agent that first writes a transcript, and settle.

        Returns (session_id, agent, metrics) after checking that the
        sandbox contains exactly that one session.
        """
        session_id = new_uuid()
        agent = self.run_workload([f"transcript={session_id}", *actions], program, **kwargs)
        metrics = self.settle([session_id])
        self.assertSessions(metrics, {session_id})
        return session_id, agent, metrics

    # ---- assertions --------------------------------------------------------

    def assertCounts(self, metrics, session_id, **counts):
        """Assert every counter of a session: the given ones, and 0 for the rest."""
        self.assertEqual(
            metrics.counts(session_id),
            expected_counts(**counts),
            f"counters of session {session_id}",
        )

    def assertSessions(self, metrics, expected_ids):
        """Assert the set of sessions whose agent cwd lies in this test's sandbox."""
        self.assertEqual(
            self.sandbox.sessions(metrics), set(expected_ids), "sessions started in this test"
        )

    def assertNoSeries(self, metrics, *session_ids):
        """Assert that no sample at all carries one of session_ids."""
        for session_id in session_ids:
            self.assertNotIn(session_id, metrics.session_ids(), f"series of {session_id}")

    def assertNoSessionForPid(self, metrics, pid):
        """Assert that pid is no session's agent and no pid-<pid> label exists."""
        self.assertNotIn(f"pid-{pid}", metrics.session_ids())
        pids = {labels.get("pid") for labels in metrics.session_info().values()}
        self.assertNotIn(str(pid), pids, f"ccapm_session_info with pid {pid}")
