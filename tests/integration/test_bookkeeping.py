# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Files Claude Code writes for itself are not file operations of the session."""

import os
import secrets

from harness import TracerTestCase, new_uuid


class BookkeepingTests(TracerTestCase):
    def setUp(self):
        super().setUp()
        self.home = self.sandbox.home
        self.config = self.home / ".claude"
        self.config.mkdir()

    def test_config_dir_writes_not_counted(self):
        (self.config / "todos").mkdir()
        (self.config / "old.json").write_text("{}")
        session_id, _, metrics = self.run_session(
            [
                f"open={self.config / 'settings.json'},wronly|creat|trunc",
                f"creat={self.config / 'todos' / 'a.json'}",
                f"mkdir={self.config / 'shell-snapshots'}",
                f"rename={self.config / 'old.json'},{self.config / 'new.json'}",
                f"unlink={self.config / 'new.json'}",
                f"rmdir={self.config / 'shell-snapshots'}",
            ]
        )
        self.assertCounts(metrics, session_id)

    def test_writes_after_dir_verdict_cached(self):
        # The first write in a directory carries its path; once the tracer has
        # classified the directory, the kernel counts or drops later writes
        # there without a path. The pauses let the verdicts reach the kernel.
        work_dir = self.sandbox.work / "cached"
        work_dir.mkdir()
        (self.config / "todos").mkdir()
        actions = []
        for round_ in range(3):
            actions += [f"creat={work_dir / f'w{round_}-{i}.c'}" for i in range(4)]
            actions += [f"creat={self.config / 'todos' / f't{round_}-{i}.json'}" for i in range(4)]
            actions += [f"creat={self.home / f'.claude.json.tmp.{round_}'}", "sleep=300"]
        session_id, _, metrics = self.run_session(actions)
        self.assertCounts(metrics, session_id, write=12)

    def test_config_dir_other_spellings_not_counted(self):
        work_sub = self.sandbox.work / "sub"
        work_sub.mkdir()
        session_id, _, metrics = self.run_session(
            [
                f"chdir={self.home}",
                "creat=.claude/relative.json",
                f"chdir={work_sub}",
                f"creat=../../home/.claude/dotdot.json",
                f"creat={self.sandbox.work}/../home/.claude/absolute-dotdot.json",
                f"dir={self.config}",
                "creat=@/via-proc-fd.json",
                "openat=fd,via-dirfd.json,wronly|creat",
                "renameat2=fd,via-dirfd.json,renamed.json,0",
            ]
        )
        self.assertCounts(metrics, session_id)
        self.assertTrue((self.config / "dotdot.json").exists())

    def test_claude_json_files_not_counted(self):
        # ~/.claude.json is rewritten through a temp file and a mkdir lock.
        (self.home / ".claude.json").write_text("{}")
        tmp_name = f".claude.json.tmp.{os.getpid()}.1733300000000"
        session_id, _, metrics = self.run_session(
            [
                f"mkdir={self.home / '.claude.json.lock'}",
                f"open={self.home / tmp_name},wronly|creat|excl",
                f"rename={self.home / tmp_name},{self.home / '.claude.json'}",
                f"open={self.home / '.claude.json'},wronly|trunc",
                f"creat={self.home / '.claude.json.backup'}",
                f"unlink={self.home / '.claude.json.backup'}",
                f"rmdir={self.home / '.claude.json.lock'}",
            ]
        )
        self.assertCounts(metrics, session_id)

    def test_claude_json_lookalikes_counted(self):
        session_id, _, metrics = self.run_session(
            [
                f"creat={self.home / '.claude.jsonfoo'}",
                f"mkdir={self.home / '.claude.jsonx'}",
                f"creat={self.home / '.claude.jsonx' / 'file'}",
                f"mkdir={self.home / '.claude.json.d'}",
                f"creat={self.home / '.claude.json.d' / 'file'}",
            ]
        )
        self.assertCounts(metrics, session_id, write=3, mkdir=1)

    def test_tmpdir_task_output_not_counted(self):
        task_dir = self.sandbox.tmp / f"claude-{os.getuid()}" / "-work" / new_uuid() / "tasks"
        session_id, _, metrics = self.run_session(
            [
                f"mkdir={task_dir.parents[2]}",
                f"mkdir={task_dir.parents[1]}",
                f"mkdir={task_dir.parent}",
                f"mkdir={task_dir}",
                f"open={task_dir / 'b1.output'},wronly|creat|trunc",
                f"unlink={task_dir / 'b1.output'}",
            ]
        )
        self.assertCounts(metrics, session_id)

    def test_tmp_cwd_file_not_counted(self):
        # The Bash tool runs "pwd -P >| /tmp/claude-<hex>-cwd" and unlinks it after.
        cwd_file = f"/tmp/claude-{secrets.token_hex(2)}-cwd"
        self.sandbox.extra_paths.append(cwd_file)
        session_id, _, metrics = self.run_session(
            [f"open={cwd_file},wronly|creat|trunc", f"unlink={cwd_file}"]
        )
        self.assertCounts(metrics, session_id)

    def test_claude_config_dir_variable(self):
        config = self.sandbox.root / "config"
        config.mkdir()
        env = self.sandbox.env(CLAUDE_CONFIG_DIR=config)
        session_id, _, metrics = self.run_session(
            [f"creat={config / 'settings.json'}", f"mkdir={config / 'todos'}"], env=env
        )
        self.assertTrue(any((config / "projects").iterdir()), "the transcript is under the variable's dir")
        self.assertCounts(metrics, session_id)

    def test_config_dir_variable_past_8_kib(self):
        # The start record contains 8 KiB of environment, and the rest comes
        # from /proc. The pause models the CLI's start-up before its first
        # transcript write, which gives the tracer time to read /proc.
        config = self.sandbox.root / "config"
        config.mkdir()
        env = {"PADDING": "x" * 9000, **self.sandbox.env(CLAUDE_CONFIG_DIR=config)}
        session_id = new_uuid()
        self.run_workload(
            ["sleep=500", f"transcript={session_id}", f"creat={config / 'settings.json'}",
             f"creat={self.home / '.claude.json'}"], env=env
        )
        metrics = self.settle([session_id])
        self.assertSessions(metrics, {session_id})
        self.assertCounts(metrics, session_id)

    def test_near_misses_counted(self):
        # Names that only resemble bookkeeping are user work.
        project_claude = self.sandbox.work / ".claude"
        cwd_like = f"/tmp/claude-{secrets.token_hex(2)}-cwd.txt"
        self.sandbox.extra_paths.append(cwd_like)
        session_id, _, metrics = self.run_session(
            [
                f"mkdir={self.home / '.claude-work'}",
                f"creat={self.home / '.claude-work' / 'notes'}",
                f"creat={self.home / '.claudex'}",
                f"mkdir={project_claude}",
                f"creat={project_claude / 'settings.local.json'}",
                f"creat={self.sandbox.tmp / 'claude-notes.txt'}",
                f"creat={cwd_like}",
            ]
        )
        self.assertCounts(metrics, session_id, write=5, mkdir=2)
