# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Which processes start a session, and which only look like they should."""

import os
import pwd

from harness import TracerTestCase, new_uuid

CLI_JS = "lib/node_modules/@anthropic-ai/claude-code/cli.js"


class AgentRecognitionTests(TracerTestCase):
    def same_work(self, session_id, tag):
        """Actions every agent and look-alike here performs: 1 command, 1 write, 1 mkdir."""
        return [
            f"transcript={session_id}",
            "exec=/bin/true",
            f"creat={self.sandbox.work / (tag + '-file')}",
            f"mkdir={self.sandbox.work / (tag + '-dir')}",
        ]

    def assert_agent(self, program=None, argv_prefix=(), tag="agent"):
        """Run one agent doing same_work and check its session and counts."""
        session_id = new_uuid()
        actions = self.same_work(session_id, tag)
        if argv_prefix:
            agent = self.sandbox.start(program, argv=[*argv_prefix, *actions])
            self.finish(agent)
        else:
            agent = self.run_workload(actions, program)
        metrics = self.settle([session_id])
        self.assertSessions(metrics, {session_id})
        self.assertCounts(metrics, session_id, commands=1, write=1, mkdir=1)
        self.assertEqual(metrics.session_info()[session_id]["pid"], str(agent.pid))
        return metrics

    def test_claude_binary(self):
        self.assert_agent(self.claude)

    def test_claude_exe_binary(self):
        self.assert_agent(self.sandbox.install("claude.exe"))

    def test_native_installer_version_path(self):
        # ~/.local/share/claude/versions/<version>: comm is the version string.
        versions = self.sandbox.home / ".local" / "share" / "claude" / "versions"
        self.assert_agent(self.sandbox.install("2.1.332", versions))

    def test_script_named_claude(self):
        interpreter = self.sandbox.install("interp")
        script = self.sandbox.script("claude", interpreter)
        self.assert_agent(script)

    def test_node_running_cli_js(self):
        node = self.sandbox.install("node")
        cli_js = self.sandbox.root / CLI_JS
        cli_js.parent.mkdir(parents=True)
        cli_js.write_text("// fake\n")
        self.assert_agent(node, argv_prefix=[str(node), str(cli_js)])

    def test_node_running_bin_claude(self):
        node = self.sandbox.install("node")
        bin_claude = self.sandbox.root / "lib" / "node_modules" / ".bin" / "claude"
        bin_claude.parent.mkdir(parents=True)
        bin_claude.write_text("// fake\n")
        self.assert_agent(node, argv_prefix=[str(node), str(bin_claude)])

    def test_lookalikes_beside_agent(self):
        """Look-alikes doing the agent's work at the same time produce no series."""
        interpreter = self.sandbox.install("interp")
        node = self.sandbox.install("node")
        helper_js = self.sandbox.root / "lib" / "claude-helper.js"
        helper_js.parent.mkdir(parents=True)
        helper_js.write_text("// fake\n")
        other_js = self.sandbox.root / "lib" / "node_modules" / "claude-code" / "cli.js"
        other_js.parent.mkdir(parents=True)
        other_js.write_text("// fake\n")
        lookalikes = {
            "claude-helper": [str(self.sandbox.install("claude-helper"))],
            "claudette": [str(self.sandbox.install("claudette"))],
            "claude.sh": [str(self.sandbox.install("claude.sh"))],
            "script claude-helper": [str(self.sandbox.script("claude-helper-script", interpreter))],
            "node claude-helper.js": [str(node), str(helper_js)],
            "node other cli.js": [str(node), str(other_js)],
        }
        go = self.sandbox.fifo("go")
        agent_id = new_uuid()
        agent = self.sandbox.start(self.claude, [f"wait={go}", *self.same_work(agent_id, "agent")])
        started = {}
        for name, argv_prefix in lookalikes.items():
            session_id = new_uuid()
            tag = name.replace(" ", "-")
            process = self.sandbox.start(
                argv_prefix[0], argv=[*argv_prefix, f"wait={go}", *self.same_work(session_id, tag)]
            )
            started[name] = (session_id, process)
        go.release(1 + len(lookalikes))
        self.finish(agent)
        for _, process in started.values():
            self.finish(process)

        metrics = self.settle([agent_id])
        self.assertSessions(metrics, {agent_id})
        self.assertCounts(metrics, agent_id, commands=1, write=1, mkdir=1)
        for name, (session_id, process) in started.items():
            with self.subTest(lookalike=name):
                self.assertNoSeries(metrics, session_id)
                self.assertNoSessionForPid(metrics, process.pid)

    def test_session_info_labels(self):
        metrics = self.assert_agent(self.claude)
        (session_id,) = self.sandbox.sessions(metrics)
        info = metrics.session_info()[session_id]
        self.assertEqual(info["user"], pwd.getpwuid(os.geteuid()).pw_name)
        self.assertEqual(info["cwd"], str(self.sandbox.work))
        self.assertEqual(metrics.get("ccapm_session_info", **info), 1)

    def test_session_info_other_user(self):
        nobody = pwd.getpwnam("nobody")
        for path in (self.sandbox.home, self.sandbox.tmp, self.sandbox.work):
            os.chmod(path, 0o777)
        wrapper = [
            "setpriv",
            f"--reuid={nobody.pw_uid}",
            f"--regid={nobody.pw_gid}",
            "--clear-groups",
            "--",
        ]
        session_id = new_uuid()
        agent = self.sandbox.start(
            self.claude,
            [f"transcript={session_id}", f"mkdir={self.sandbox.work / 'by-nobody'}"],
            wrapper=wrapper,
        )
        self.finish(agent)
        metrics = self.settle([session_id])
        self.assertSessions(metrics, {session_id})
        self.assertCounts(metrics, session_id, mkdir=1)
        self.assertEqual(metrics.session_info()[session_id]["user"], "nobody")

    def test_per_minute_gauges(self):
        listeners = self.sandbox.listen()
        session_id, _, metrics = self.run_session(
            [
                "exec=/bin/true",
                "exec=/bin/true",
                f"creat={self.sandbox.work / 'a'}",
                f"mkdir={self.sandbox.work / 'b'}",
                f"rename={self.sandbox.work / 'a'},{self.sandbox.work / 'c'}",
                f"connect=ipv4,127.0.0.1,{listeners.ipv4_port}",
            ]
        )
        self.assertEqual(
            metrics.rates(session_id),
            {"commands": 2, "file_ops": 3, "network_connects": 1, "actions": 6},
        )
