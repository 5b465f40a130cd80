# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""File operations: each syscall, each path spelling, and what must not count."""

import os
import socket

from harness import TracerTestCase


class FileOpTests(TracerTestCase):
    def setUp(self):
        super().setUp()
        self.work = self.sandbox.work

    def existing(self, name, directory=None):
        """Create a file outside any session and return its path."""
        path = (directory or self.work) / name
        path.write_text("existing\n")
        return path

    def test_creat(self):
        session_id, _, metrics = self.run_session([f"creat={self.work / 'new'}"])
        self.assertCounts(metrics, session_id, write=1)

    def test_open_write_flags(self):
        existing = self.existing("existing")
        session_id, _, metrics = self.run_session(
            [
                f"open={self.work / 'created'},wronly|creat",
                f"open={existing},wronly",
                f"open={existing},rdwr",
                f"open={existing},wronly|append",
                f"open={self.work / 'excl'},rdwr|creat|excl",
            ]
        )
        self.assertCounts(metrics, session_id, write=5)

    def test_creat_flag_alone_counts(self):
        existing = self.existing("existing")
        session_id, _, metrics = self.run_session(
            [f"open={existing},rdonly|creat", f"open={self.work / 'new'},rdonly|creat"]
        )
        self.assertCounts(metrics, session_id, write=2)

    def test_trunc_flag_alone_counts(self):
        existing = self.existing("existing")
        session_id, _, metrics = self.run_session([f"open={existing},rdonly|trunc"])
        self.assertCounts(metrics, session_id, write=1)
        self.assertEqual(existing.read_text(), "", "O_RDONLY|O_TRUNC truncated the file")

    def test_openat_cwd_and_dirfd(self):
        sub = self.work / "sub"
        sub.mkdir()
        session_id, _, metrics = self.run_session(
            [
                "openat=cwd,at-cwd,wronly|creat",
                f"dir={sub}",
                "openat=fd,at-dirfd,wronly|creat",
                f"openat=cwd,{sub / 'absolute'},rdwr|creat",
            ]
        )
        self.assertCounts(metrics, session_id, write=3)
        self.assertTrue((sub / "at-dirfd").exists())

    def test_openat2_cwd_and_dirfd(self):
        sub = self.work / "sub"
        sub.mkdir()
        session_id, _, metrics = self.run_session(
            [
                "openat2=cwd,at2-cwd,wronly|creat",
                f"dir={sub}",
                "openat2=fd,at2-dirfd,wronly|creat|trunc",
            ]
        )
        self.assertCounts(metrics, session_id, write=2)

    def test_read_only_opens_not_counted(self):
        existing = self.existing("existing")
        session_id, _, metrics = self.run_session(
            [
                f"open={existing},rdonly",
                f"openat=cwd,{existing},rdonly",
                f"openat2=cwd,{existing},rdonly",
                f"open={self.work},rdonly|directory",
                f"open={existing},path",
            ]
        )
        self.assertCounts(metrics, session_id)

    def test_failed_ops_not_counted(self):
        missing = self.work / "missing" / "file"
        existing_dir = self.work / "dir"
        existing_dir.mkdir()
        existing = self.existing("existing")
        session_id, _, metrics = self.run_session(
            [
                f"!open={missing},wronly|creat",
                f"!open={self.work / 'absent'},wronly",
                f"!creat={missing}",
                f"!openat2=cwd,{missing},wronly|creat",
                f"!mkdir={existing_dir}",
                f"!unlink={self.work / 'absent'}",
                f"!rmdir={self.work / 'absent'}",
                f"!rename={self.work / 'absent'},{self.work / 'other'}",
                f"!renameat2=cwd,{existing},{existing_dir},noreplace",
            ]
        )
        self.assertCounts(metrics, session_id)

    def test_device_and_pipe_writes_not_counted(self):
        session_id, _, metrics = self.run_session(
            ["open=/dev/null,wronly", "open=/dev/null,wronly|trunc", "pipe-write"]
        )
        self.assertCounts(metrics, session_id)

    def test_fifo_write_not_counted(self):
        fifo = self.sandbox.fifo("target")
        session_id, _, metrics = self.run_session([f"open={fifo},wronly", f"open={fifo},rdwr"])
        self.assertCounts(metrics, session_id)

    def test_special_file_deletes_not_counted(self):
        # Only regular files and directories count. The kernel reports the
        # FIFOs and sockets a session creates, so deleting them is skipped.
        fifo = self.work / "fifo"
        sock_path = self.work / "sock"
        session_id, _, metrics = self.run_session(
            [
                f"mkfifo={fifo}",
                f"bind-unix={sock_path}",
                f"unlink={fifo}",
                f"unlink={sock_path}",
            ]
        )
        self.assertFalse(fifo.exists())
        self.assertFalse(sock_path.exists())
        self.assertCounts(metrics, session_id)

    def test_special_file_renames_not_counted(self):
        # The tracer looks at a rename's target when the event arrives: a FIFO
        # there means the rename is not counted, and neither is its delete.
        # The pause lets the tracer look before the delete.
        moved_fifo = self.work / "fifo2"
        os.mkfifo(moved_fifo)
        session_id, _, metrics = self.run_session(
            [
                f"rename={moved_fifo},{self.work / 'fifo3'}",
                "sleep=500",
                f"unlink={self.work / 'fifo3'}",
            ]
        )
        self.assertCounts(metrics, session_id)

    def test_regular_file_at_old_special_path_counts(self):
        # Once a regular file takes a special file's path, deleting it counts again.
        fifo = self.work / "reused"
        session_id, _, metrics = self.run_session(
            [f"mkfifo={fifo}", f"unlink={fifo}", f"creat={fifo}", f"unlink={fifo}"]
        )
        self.assertCounts(metrics, session_id, write=1, delete=1)

    def test_rename_variants(self):
        for name in ("a", "b", "c", "d", "e", "f"):
            self.existing(name)
        (self.work / "dir").mkdir()
        session_id, _, metrics = self.run_session(
            [
                f"rename={self.work / 'a'},{self.work / 'a2'}",
                "renameat=cwd,b,b2",
                f"dir={self.work}",
                "renameat=fd,c,c2",
                "renameat2=fd,d,d2,0",
                "renameat2=fd,e,e2,noreplace",
                "renameat2=fd,f,a2,exchange",
                "renameat2=fd,dir,dir2,0",
            ]
        )
        self.assertCounts(metrics, session_id, rename=7)

    def test_delete_variants(self):
        for name in ("a", "b", "c"):
            self.existing(name)
        for name in ("d1", "d2"):
            (self.work / name).mkdir()
        session_id, _, metrics = self.run_session(
            [
                f"unlink={self.work / 'a'}",
                "unlinkat=cwd,b",
                f"dir={self.work}",
                "unlinkat=fd,c",
                "unlinkat=fd,d1,removedir",
                f"rmdir={self.work / 'd2'}",
            ]
        )
        self.assertCounts(metrics, session_id, delete=5)

    def test_mkdir_variants(self):
        session_id, _, metrics = self.run_session(
            [
                f"mkdir={self.work / 'a'}",
                "mkdirat=cwd,b",
                f"dir={self.work / 'a'}",
                "mkdirat=fd,c",
            ]
        )
        self.assertCounts(metrics, session_id, mkdir=3)
        self.assertTrue((self.work / "a" / "c").is_dir())

    def test_proc_self_fd_paths(self):
        # How Claude Code's Write and Edit tools spell paths: through a dirfd.
        self.existing("edited")
        session_id, _, metrics = self.run_session(
            [
                f"dir={self.work}",
                "open=@/edited.tmp.1.abc,wronly|creat|excl",
                "rename=@/edited.tmp.1.abc,@/edited",
                "creat=@/new",
                "mkdir=@/sub",
                "unlink=@/new",
                "rmdir=@/sub",
            ]
        )
        self.assertCounts(metrics, session_id, write=2, rename=1, delete=2, mkdir=1)

    def test_relative_paths(self):
        sub = self.work / "sub"
        sub.mkdir()
        session_id, _, metrics = self.run_session(
            [
                "chdir=sub",
                "creat=a",
                "open=../b,wronly|creat",
                "mkdir=./c",
                "rename=a,../a",
                "unlink=../b",
            ]
        )
        self.assertCounts(metrics, session_id, write=2, rename=1, delete=1, mkdir=1)
        self.assertTrue((self.work / "a").exists())
