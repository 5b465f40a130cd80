# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Session ids: transcripts, arguments, carry-over, switches and concurrency."""

import time

from harness import TracerTestCase, new_uuid


class SessionIdTests(TracerTestCase):
    def test_two_concurrent_sessions_kept_apart(self):
        listeners = self.sandbox.listen()
        work = self.sandbox.work
        ready = self.sandbox.fifo("ready")
        go = self.sandbox.fifo("go")
        id_a, id_b = new_uuid(), new_uuid()
        # Both agents act before and after the barrier, so their events interleave.
        agent_a = self.sandbox.start(
            self.claude,
            [
                f"transcript={id_a}",
                f"mkdir={work / 'a1'}",
                "exec=/bin/true",
                f"signal={ready}",
                f"wait={go}",
                f"mkdir={work / 'a2'}",
                f"mkdir={work / 'a3'}",
                f"connect=ipv4,127.0.0.1,{listeners.ipv4_port}",
            ],
        )

        agent_b = self.sandbox.start(
            self.claude,
            [
                f"transcript={id_b}",
                f"threads=4,5,{work}",
                f"signal={ready}",
                f"wait={go}",
                "exec=/bin/true",
                "exec=/bin/true",
                f"connect=unix,{listeners.unix_path}",
                f"connect=unix,{listeners.unix_path}",
            ],
        )

        ready.wait(processes=[agent_a, agent_b])
        ready.wait(processes=[agent_a, agent_b])
        go.release(2)
        self.finish(agent_a)
        self.finish(agent_b)

        metrics = self.settle([id_a, id_b])
        self.assertSessions(metrics, {id_a, id_b})
        self.assertCounts(metrics, id_a, commands=1, mkdir=3, ipv4=1)
        self.assertCounts(metrics, id_b, commands=2, write=20, unix=2)
        self.assertEqual(metrics.session_info()[id_a]["pid"], str(agent_a.pid))
        self.assertEqual(metrics.session_info()[id_b]["pid"], str(agent_b.pid))

    def test_carry_over_before_transcript(self):
        work = self.sandbox.work
        ready = self.sandbox.fifo("ready")
        go = self.sandbox.fifo("go")
        session_id = new_uuid()
        agent = self.sandbox.start(
            self.claude,
            [
                f"mkdir={work / 'before'}",
                "exec=/bin/true",
                f"signal={ready}",
                f"wait={go}",
                f"transcript={session_id}",
                f"mkdir={work / 'after'}",
            ],
        )
        ready.wait(processes=[agent])
        pid_label = f"pid-{agent.pid}"
        before = self.tracer.wait_for(
            lambda m: m.counts(pid_label)["mkdir"] == 1 and m.counts(pid_label)["commands"] == 1,
            what=f"the {pid_label} series to show the first mkdir and exec",
        )
        self.assertCounts(before, pid_label, commands=1, mkdir=1)
        go.release()
        self.finish(agent)
        metrics = self.settle([session_id, pid_label])
        self.assertSessions(metrics, {session_id})
        self.assertCounts(metrics, session_id, commands=1, mkdir=2)
        self.assertNoSeries(metrics, pid_label)

    def test_session_id_argument(self):
        self.check_id_from_argv("--session-id")

    def test_resume_argument(self):
        self.check_id_from_argv("--resume")

    def check_id_from_argv(self, option):
        """The id given in argv labels the series before any transcript is written."""
        work = self.sandbox.work
        ready = self.sandbox.fifo("ready")
        go = self.sandbox.fifo("go")
        session_id = new_uuid()
        agent = self.sandbox.start(
            self.claude,
            [option, session_id, f"mkdir={work / 'a'}", f"signal={ready}", f"wait={go}",
             f"mkdir={work / 'b'}"],
        )
        ready.wait(processes=[agent])
        during = self.tracer.wait_for(
            lambda m: m.counts(session_id)["mkdir"] == 1,
            what=f"mkdir=1 under {session_id} while the agent waits",
        )
        self.assertNoSeries(during, f"pid-{agent.pid}")
        go.release()
        self.finish(agent)
        metrics = self.settle([session_id])
        self.assertSessions(metrics, {session_id})
        self.assertCounts(metrics, session_id, mkdir=2)
        self.assertNoSeries(metrics, f"pid-{agent.pid}")

    def test_transcript_switch_moves_child_not_sibling(self):
        """A child that writes another transcript moves with its later children."""
        work = self.sandbox.work
        tool = self.sandbox.install("tool")
        sibling_go = self.sandbox.fifo("sibling-go")
        first_id, second_id = new_uuid(), new_uuid()
        agent = self.sandbox.start(
            self.claude,
            [
                f"transcript={first_id}",
                f"mkdir={work / 'agent-1'}",
                # The sibling starts before the switch and acts after it.
                f"bg-exec={tool}", "{", f"wait={sibling_go}", f"mkdir={work / 'sibling'}", "}",
                f"exec={tool}", "{",
                f"mkdir={work / 'child-before'}",
                f"transcript={second_id}",
                f"mkdir={work / 'child-after'}",
                f"exec={tool}", "{", f"mkdir={work / 'grandchild'}", "}",
                "}",
                f"signal={sibling_go}",
                "reap",
                f"mkdir={work / 'agent-2'}",
            ],
        )
        self.finish(agent)

        metrics = self.settle([first_id, second_id])
        self.assertSessions(metrics, {first_id, second_id})
        # first_id: both execs of tool, and agent-1, sibling, child-before and agent-2.
        self.assertCounts(metrics, first_id, commands=2, mkdir=4)
        # second_id: the grandchild's exec, and child-after and grandchild.
        self.assertCounts(metrics, second_id, commands=1, mkdir=2)

    def test_nested_claude_print_switches(self):
        """A claude run inside a tool command writes its own transcript and moves."""
        work = self.sandbox.work
        tool = self.sandbox.install("bash")
        inner = self.sandbox.install("claude", self.sandbox.root / "inner")
        outer_id, inner_id = new_uuid(), new_uuid()
        agent = self.run_workload(
            [
                f"transcript={outer_id}",
                f"exec={tool}", "{",
                f"exec={inner}", "{",
                f"transcript={inner_id}", f"mkdir={work / 'inner'}", "exec=/bin/true",
                "}",
                f"mkdir={work / 'tool-after'}",
                "}",
                f"mkdir={work / 'agent-after'}",
            ]
        )

        metrics = self.settle([outer_id, inner_id])
        self.assertSessions(metrics, {outer_id, inner_id})
        # outer_id: the execs of bash and of the inner claude, and tool-after and agent-after.
        self.assertCounts(metrics, outer_id, commands=2, mkdir=2)
        self.assertCounts(metrics, inner_id, commands=1, mkdir=1)
        self.assertEqual(metrics.session_info()[outer_id]["pid"], str(agent.pid))

    def test_transcript_lookalikes_set_no_id(self):
        """Only a transcript under the config dir, opened for writing, names the session."""
        fake_dir = self.sandbox.work / "projects" / "-work"
        fake_dir.mkdir(parents=True)
        real_dir = self.sandbox.home / ".claude" / "projects" / "-work"
        real_dir.mkdir(parents=True)
        # Several agents, because the first moments after an exec are the likeliest to go wrong.
        runs = []
        for _ in range(5):
            fake_id, read_id = new_uuid(), new_uuid()
            (real_dir / f"{read_id}.jsonl").write_text("{}\n")
            agent = self.run_workload(
                [
                    f"open={fake_dir / (fake_id + '.jsonl')},wronly|creat|append",
                    f"open={real_dir / (read_id + '.jsonl')},rdonly",
                ]
            )
            runs.append((agent, fake_id, read_id))

        pid_labels = {f"pid-{agent.pid}" for agent, _, _ in runs}
        metrics = self.settle(pid_labels)
        for agent, fake_id, read_id in runs:
            with self.subTest(agent=agent.pid):
                ids = metrics.session_ids()
                self.assertNotIn(fake_id, ids, "id taken from a .jsonl outside the config dir")
                self.assertNotIn(read_id, ids, "id taken from a transcript opened read-only")
                self.assertCounts(metrics, f"pid-{agent.pid}", write=1)
        self.assertSessions(metrics, pid_labels)

    def test_same_transcript_again_is_no_switch(self):
        work = self.sandbox.work
        session_id = new_uuid()
        agent = self.run_workload(
            [
                f"transcript={session_id}",
                f"exec={self.sandbox.install('tool')}", "{",
                f"transcript={session_id}", f"mkdir={work / 'child'}", "}",
                f"transcript={session_id}",
                f"mkdir={work / 'agent'}",
            ]
        )
        metrics = self.settle([session_id])
        self.assertSessions(metrics, {session_id})
        self.assertCounts(metrics, session_id, commands=1, mkdir=2)
        self.assertEqual(metrics.session_info()[session_id]["pid"], str(agent.pid))


class StartupTests(TracerTestCase):
    """Agents that run before the tracer starts are found by scanning /proc."""

    shared_tracer = False

    def start_agent_then_tracer(self, agent_before, child_after, agent_after=(), env=None,
                                wrapper=()):
        """Start an agent with one background child, then the tracer, then let both act.

        Both processes signal "ready" and wait for "go" before the actions
        meant to be counted. Returns the agent, after it exited.
        """
        ready = self.sandbox.fifo("ready")
        go = self.sandbox.fifo("go")
        tool = self.sandbox.install("tool")
        agent = self.sandbox.start(
            self.claude,
            [
                *agent_before,
                "exec=/bin/true",  # before the tracer: not counted
                f"bg-exec={tool}", "{", f"signal={ready}", f"wait={go}", *child_after, "}",
                f"signal={ready}",
                f"wait={go}",
                *agent_after,
                f"mkdir={self.sandbox.work / 'agent-after-start'}",
            ],
            env=env,
            wrapper=wrapper,
        )
        ready.wait(processes=[agent])
        ready.wait(processes=[agent])
        self.start_tracer(interval_s=1)
        go.release(2)
        self.finish(agent)
        return agent

    def child_work(self):
        return [f"mkdir={self.sandbox.work / 'child-after-start'}", "exec=/bin/true"]

    def test_found_with_registry_file(self):
        session_id = new_uuid()
        agent = self.start_agent_then_tracer([f"registry={session_id}"], self.child_work())
        metrics = self.settle([session_id])
        self.assertSessions(metrics, {session_id})
        self.assertCounts(metrics, session_id, commands=1, mkdir=2)
        self.assertEqual(metrics.session_info()[session_id]["pid"], str(agent.pid))
        self.assertNoSeries(metrics, f"pid-{agent.pid}")

    def test_found_with_registry_file_in_pid_namespace(self):
        # Inside its own PID namespace the agent is pid 1 and writes sessions/1.json.
        session_id = new_uuid()
        self.start_agent_then_tracer(
            [f"registry={session_id}"], self.child_work(),
            wrapper=["unshare", "--pid", "--fork", "--mount-proc", "--"])
        registry = self.sandbox.home / ".claude" / "sessions" / "1.json"
        self.assertTrue(registry.exists(), "the agent must see itself as pid 1")
        metrics = self.settle([session_id])
        self.assertSessions(metrics, {session_id})
        self.assertCounts(metrics, session_id, commands=1, mkdir=2)

    def test_found_with_child_session_variable(self):
        session_id = new_uuid()
        agent = self.start_agent_then_tracer(
            [f"setenv=CLAUDE_CODE_SESSION_ID,{session_id}"], self.child_work()
        )
        metrics = self.settle([session_id])
        self.assertSessions(metrics, {session_id})
        self.assertCounts(metrics, session_id, commands=1, mkdir=2)
        self.assertNoSeries(metrics, f"pid-{agent.pid}")

    def test_found_then_id_from_next_transcript(self):
        session_id = new_uuid()
        agent = self.start_agent_then_tracer(
            [], self.child_work(), [f"transcript={session_id}"]
        )
        metrics = self.settle([session_id, f"pid-{agent.pid}"])
        self.assertSessions(metrics, {session_id})
        self.assertCounts(metrics, session_id, commands=1, mkdir=2)
        self.assertNoSeries(metrics, f"pid-{agent.pid}")

    def test_found_without_id_is_labelled_by_pid(self):
        agent = self.start_agent_then_tracer([], self.child_work())
        pid_label = f"pid-{agent.pid}"
        metrics = self.settle([pid_label])
        self.assertSessions(metrics, {pid_label})
        self.assertCounts(metrics, pid_label, commands=1, mkdir=2)


class RetentionTests(TracerTestCase):
    """An ended session's series go after --retention seconds; a running one stays."""

    RETENTION_S = 6
    tracer_options = {"interval_s": 1, "retention_s": RETENTION_S}

    def test_ended_session_dropped_after_retention(self):
        session_id = new_uuid()
        self.run_workload([f"transcript={session_id}", f"mkdir={self.sandbox.work / 'a'}"])
        ended_at = time.monotonic()
        # settle() takes about 3 s, well inside the retention time.
        metrics = self.settle([session_id])
        self.assertCounts(metrics, session_id, mkdir=1)
        self.tracer.wait_for(
            lambda m: session_id not in m.session_ids(),
            timeout_s=self.RETENTION_S + 4 - (time.monotonic() - ended_at),
            what=f"the series of {session_id} to go {self.RETENTION_S} s after the agent ended",
        )
        dropped_after_s = time.monotonic() - ended_at
        self.assertGreaterEqual(dropped_after_s, self.RETENTION_S - 1, "dropped too early")

    def test_running_session_kept_past_retention(self):
        go = self.sandbox.fifo("go")
        ready = self.sandbox.fifo("ready")
        session_id = new_uuid()
        agent = self.sandbox.start(
            self.claude,
            [f"transcript={session_id}", f"mkdir={self.sandbox.work / 'a'}", f"signal={ready}",
             f"wait={go}"],
        )
        ready.wait(processes=[agent])
        time.sleep(self.RETENTION_S + 3)
        metrics = self.tracer.read()
        self.assertCounts(metrics, session_id, mkdir=1)
        self.assertGreaterEqual(metrics.get("ccapm_sessions_active"), 1)
        go.release()
        self.finish(agent)
