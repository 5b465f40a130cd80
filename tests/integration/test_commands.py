# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Commands and descendants: every way a session process can exec or fork."""

from harness import TracerTestCase, new_uuid


class CommandTests(TracerTestCase):
    def test_agent_start_not_counted(self):
        session_id, agent, metrics = self.run_session([])
        self.assertCounts(metrics, session_id)
        self.assertNoSeries(metrics, f"pid-{agent.pid}")

    def test_fork_execve(self):
        session_id, _, metrics = self.run_session(["exec=/bin/true", "exec=/bin/true"])
        self.assertCounts(metrics, session_id, commands=2)

    def test_vfork_execve(self):
        session_id, _, metrics = self.run_session(["vfork-exec=/bin/true"])
        self.assertCounts(metrics, session_id, commands=1)

    def test_execveat_dirfd(self):
        session_id, _, metrics = self.run_session(["execveat=/bin,true"])
        self.assertCounts(metrics, session_id, commands=1)

    def test_execveat_empty_path(self):
        session_id, _, metrics = self.run_session(["execveat-fd=/bin/true"])
        self.assertCounts(metrics, session_id, commands=1)

    def test_failed_exec_not_counted(self):
        missing = str(self.sandbox.root / "missing")
        session_id, _, metrics = self.run_session(
            [f"!exec={missing}", f"!vfork-exec={missing}", f"!execveat={self.sandbox.root},missing"]
        )
        self.assertCounts(metrics, session_id)

    def test_exec_chain_counts_each_exec(self):
        # The agent execs a helper, which execs /bin/true twice and mkdirs.
        helper = self.sandbox.install("helper")
        target = self.sandbox.work / "from-helper"
        session_id, _, metrics = self.run_session(
            [f"exec={helper}", "{", "exec=/bin/true", "vfork-exec=/bin/true", f"mkdir={target}", "}"]
        )
        self.assertCounts(metrics, session_id, commands=3, mkdir=1)

    def test_fork_child_belongs_to_session(self):
        session_id, _, metrics = self.run_session(
            ["fork", "{", f"mkdir={self.sandbox.work / 'child'}", "exec=/bin/true", "}"]
        )
        self.assertCounts(metrics, session_id, commands=1, mkdir=1)

    def test_clone3_child_belongs_to_session(self):
        session_id, _, metrics = self.run_session(
            ["clone3", "{", f"mkdir={self.sandbox.work / 'child'}", "exec=/bin/true", "}"]
        )
        self.assertCounts(metrics, session_id, commands=1, mkdir=1)

    def test_multithreaded_writer(self):
        threads, files_per_thread = 8, 25
        session_id, _, metrics = self.run_session(
            [f"threads={threads},{files_per_thread},{self.sandbox.work}"]
        )
        self.assertCounts(metrics, session_id, write=threads * files_per_thread)
        self.assertEqual(metrics.get("ccapm_events_lost_total"), 0)

    def test_detached_grandchild_after_agent_exit(self):
        go = self.sandbox.fifo("go")
        done = self.sandbox.fifo("done")
        session_id = new_uuid()
        agent = self.sandbox.start(
            self.claude,
            [
                f"transcript={session_id}",
                "daemon",
                "{",
                f"wait={go}",
                f"mkdir={self.sandbox.work / 'late'}",
                "exec=/bin/true",
                f"signal={done}",
                "}",
            ],
        )
        self.finish(agent)
        # The agent and the grandchild's parent have exited, and only now does it act.
        go.release()
        done.wait()
        metrics = self.settle([session_id])
        self.assertSessions(metrics, {session_id})
        self.assertCounts(metrics, session_id, commands=1, mkdir=1)

    def test_self_reexec_as_tools(self):
        # The native agent runs Grep and Glob by exec'ing itself as rg, ugrep or bfs.
        target = self.sandbox.work / "from-rg"
        session_id, _, metrics = self.run_session(
            [
                f"exec={self.claude},rg", "{", f"mkdir={target}", "}",
                f"vfork-exec={self.claude},ugrep",
                f"execveat-fd={self.claude},bfs",
            ]
        )
        self.assertCounts(metrics, session_id, commands=3, mkdir=1)

    def test_nested_claude_is_a_command(self):
        # A claude exec'd inside a session is a command, not a new session.
        inner = self.sandbox.install("claude", self.sandbox.root / "inner")
        session_id, _, metrics = self.run_session(
            [f"exec={inner}", "{", f"mkdir={self.sandbox.work / 'inner'}", "}"]
        )
        self.assertCounts(metrics, session_id, commands=1, mkdir=1)
