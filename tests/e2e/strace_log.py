# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Parse `strace -f -y` output into the actions ccapm-trace counts.

The suite runs Claude Code under strace and uses the log as the reference
for what the processes really did: successful execs, file operations with
their paths resolved, and connects. Paths are resolved the way the kernel
would: against the dirfd that strace decorates (-y), the tracked cwd, or
the fd table for `/proc/self/fd/N/name` spellings.

Expected strace options: -f -y -s 4096 -e trace=<at least %process, %file,
connect, close, dup2, dup3, fcntl, chdir, fchdir>.
"""

import collections
import os
import re

LINE = re.compile(r"^(\d+)\s+(?:\d\d:\d\d:\d\d\.\d+\s+)?(.*)$")
CALL = re.compile(r"^([a-z0-9_]+)\((.*)\)\s+=\s+(-?\d+|\?)(<[^>]*>)?(.*)$")
UNFINISHED = re.compile(r"^([a-z0-9_]+)\((.*)\s<unfinished \.\.\.>$")
RESUMED = re.compile(r"^<\.\.\. ([a-z0-9_]+) resumed>(.*)$")

FORKS = ("clone", "clone3", "fork", "vfork")

# Open flags that make an open a write in ccapm-trace's sense.
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC")

Exec = collections.namedtuple("Exec", "pid path argv")
FileOp = collections.namedtuple("FileOp", "pid op path syscall")
Connect = collections.namedtuple("Connect", "pid family address")


def split_args(text):
    """Split a strace argument list at top-level commas."""
    args, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(text):
        c = text[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c in "[{(<":
            depth += 1
        elif c in "]})>":
            depth -= 1
        elif c == "," and depth == 0:
            args.append(text[start:i].strip())
            start = i + 1
        i += 1
    tail = text[start:].strip()
    if tail:
        args.append(tail)
    return args


def unquote(arg):
    """Return the string inside a strace quoted argument, or None."""
    match = re.match(r'^"(.*)"(\.\.\.)?$', arg, re.S)
    if not match:
        return None
    raw = match.group(1)
    return raw.encode("latin-1", "backslashreplace").decode(
        "unicode_escape").encode("latin-1").decode("utf-8", "replace")


def fd_path(arg):
    """Return the path strace decorated an fd argument with, or None."""
    match = re.match(r"^-?\d+<(.*)>$", arg, re.S)
    return match.group(1) if match else None


def fd_number(arg):
    match = re.match(r"^(-?\d+)", arg)
    return int(match.group(1)) if match else None


class Trace:
    """The actions found in one strace log, in log order."""

    def __init__(self, text, cwd):
        self.execs = []
        self.file_ops = []
        self.connects = []
        # /proc/self/fd/N paths whose fd was not in the tracked fd table.
        self.unresolved = []
        self.first_pid = None
        self._tgid = {}
        self._cwd = {}
        self._fds = {}
        # Processes inside a fork-like call, with its arguments. A child
        # (always after vfork) can log syscalls before the call returns.
        self._forking = {}
        self._root_cwd = cwd
        self._parse(text)

    # Process bookkeeping: threads share the fd table and cwd of their
    # thread group, forked children start with copies.

    def _group(self, pid):
        if self.first_pid is None:
            self.first_pid = pid
        if pid not in self._tgid and self._forking:
            # NOTE: with several forks pending at once, the latest is taken
            # as the parent; the log does not tell which one it was.
            parent, flags = list(self._forking.items())[-1]
            self._child(parent, pid, flags)
        tgid = self._tgid.setdefault(pid, pid)
        self._cwd.setdefault(tgid, self._root_cwd)
        self._fds.setdefault(tgid, {})
        return tgid

    def _child(self, parent, child, flags):
        ptgid = self._group(parent)
        if "CLONE_THREAD" in flags:
            self._tgid[child] = ptgid
            return
        self._tgid[child] = child
        self._cwd[child] = self._cwd[ptgid]
        if "CLONE_FILES" in flags:
            self._fds[child] = self._fds[ptgid]
        else:
            self._fds[child] = dict(self._fds[ptgid])

    def resolve(self, tgid, dir_arg, name):
        """Return the absolute, normalised path of name for process tgid."""
        match = re.match(r"^/proc/(?:self|thread-self|\d+)/fd/(\d+)(/.*)?$",
                         name)
        if match:
            base = self._fds[tgid].get(int(match.group(1)))
            if base is None:
                self.unresolved.append(name)
                return name
            name = base + (match.group(2) or "")
        if name.startswith("/"):
            return os.path.normpath(name)
        base = None
        if dir_arg is not None and not dir_arg.startswith("AT_FDCWD"):
            base = fd_path(dir_arg)
        if base is None:
            base = self._cwd[tgid]
        return os.path.normpath(os.path.join(base, name))

    def _parse(self, text):
        pending = {}
        for line in text.splitlines():
            match = LINE.match(line)
            if not match:
                continue
            pid, body = int(match.group(1)), match.group(2)
            unfinished = UNFINISHED.match(body)
            if unfinished:
                pending[pid] = (unfinished.group(1), unfinished.group(2))
                if unfinished.group(1) in FORKS:
                    self._group(pid)
                    self._forking[pid] = unfinished.group(2)
                continue
            resumed = RESUMED.match(body)
            if resumed and pid in pending:
                name, head = pending.pop(pid)
                body = f"{name}({head}{resumed.group(2)}"
            call = CALL.match(body)
            if call:
                self._handle(pid, call)

    def _handle(self, pid, call):
        name, args_text, ret_text = call.group(1), call.group(2), call.group(3)
        ret_path = call.group(4)[1:-1] if call.group(4) else None
        tgid = self._group(pid)
        if ret_text == "?":
            return
        ret = int(ret_text)
        args = split_args(args_text)
        ok = ret >= 0 or "EINPROGRESS" in call.group(5)

        if name in FORKS:
            self._forking.pop(pid, None)
        if name in FORKS and ret > 0 and ret not in self._tgid:
            self._child(pid, ret, args_text)
        elif name in ("execve", "execveat") and ret == 0:
            self._exec(pid, tgid, name, args)
        elif name in ("open", "openat", "openat2", "creat") and ret >= 0:
            self._open(pid, tgid, name, args, ret, ret_path)
        elif name in ("rename", "renameat", "renameat2") and ret == 0:
            self._rename(pid, tgid, name, args)
        elif name in ("unlink", "unlinkat", "rmdir") and ret == 0:
            self._path_op(pid, tgid, name, args, "delete")
        elif name in ("mkdir", "mkdirat") and ret == 0:
            self._path_op(pid, tgid, name, args, "mkdir")
        elif name == "connect" and ok:
            self._connect(pid, args)
        elif name == "chdir" and ret == 0:
            self._cwd[tgid] = self.resolve(tgid, None, unquote(args[0]))
        elif name == "fchdir" and ret == 0:
            path = fd_path(args[0])
            if path:
                self._cwd[tgid] = path
        elif name in ("dup", "dup2", "dup3", "fcntl") and ret >= 0:
            path = fd_path(args[0])
            if path and (name != "fcntl" or "F_DUPFD" in args_text):
                self._fds[tgid][ret] = path
        elif name == "close" and ret == 0:
            # Another thread can get the fd back before this close returns,
            # and strace then logs the close last. Forget the fd only while
            # it still names the path that was closed.
            number = fd_number(args[0])
            closed = fd_path(args[0])
            if closed is None or self._fds[tgid].get(number) == closed:
                self._fds[tgid].pop(number, None)

    def _exec(self, pid, tgid, name, args):
        if name == "execve":
            path = unquote(args[0])
            argv_arg = args[1]
        else:
            path = self.resolve(tgid, args[0], unquote(args[1]))
            argv_arg = args[2]
        argv = [unquote(a) for a in split_args(argv_arg.strip("[]"))]
        self.execs.append(Exec(pid, path, argv))
        # An exec closes the O_CLOEXEC fds. strace does not show which fds
        # those were, so forget all of them.
        self._fds[tgid] = {}

    def _open(self, pid, tgid, name, args, ret, ret_path):
        if name == "creat":
            flags = "O_CREAT|O_WRONLY|O_TRUNC"
            path_arg, dir_arg = args[0], None
        elif name == "open":
            flags, path_arg, dir_arg = args[1], args[0], None
        else:
            flags, path_arg, dir_arg = args[2], args[1], args[0]
        path = ret_path or self.resolve(tgid, dir_arg, unquote(path_arg))
        self._fds[tgid][ret] = path
        if any(f in flags for f in WRITE_FLAGS):
            self.file_ops.append(FileOp(pid, "write", path, name))

    def _rename(self, pid, tgid, name, args):
        if name == "rename":
            old = self.resolve(tgid, None, unquote(args[0]))
            new = self.resolve(tgid, None, unquote(args[1]))
        else:
            old = self.resolve(tgid, args[0], unquote(args[1]))
            new = self.resolve(tgid, args[2], unquote(args[3]))
        self.file_ops.append(FileOp(pid, "rename", f"{old} -> {new}", name))

    def _path_op(self, pid, tgid, name, args, op):
        if name in ("unlinkat", "mkdirat"):
            path = self.resolve(tgid, args[0], unquote(args[1]))
        else:
            path = self.resolve(tgid, None, unquote(args[0]))
        self.file_ops.append(FileOp(pid, op, path, name))

    def _connect(self, pid, args):
        address = args[1]
        if "AF_INET6" in address:
            family = "ipv6"
            if "::ffff:" in address:
                family = "ipv4"
        elif "AF_INET" in address:
            family = "ipv4"
        elif "AF_UNIX" in address or "AF_LOCAL" in address:
            family = "unix"
        else:
            return
        self.connects.append(Connect(pid, family, address))

    def agent_exec_count(self):
        """Return how many execs the agent's own start took.

        The first exec in the log starts the agent. Claude Code 1.0.x is a
        script that starts with `#!/usr/bin/env node`, so the same process
        execs again as `node .../claude ...`. ccapm-trace counts that re-exec
        of the agent as part of its start, not as a command.
        """
        if not self.execs:
            return 0
        count = 1
        agent = self.execs[0].pid
        for e in self.execs[1:]:
            if e.pid != agent or len(e.argv) < 2:
                break
            if os.path.basename(e.path) not in ("node", "nodejs"):
                break
            script = e.argv[1]
            if not (os.path.basename(script) == "claude" or script.endswith(
                    "@anthropic-ai/claude-code/cli.js")):
                break
            count += 1
        return count

    def commands(self):
        """Return the execs that count as commands of the session."""
        return self.execs[self.agent_exec_count():]

    def file_ops_under(self, directory):
        """Return the file operations on paths inside directory."""
        prefix = directory.rstrip("/") + "/"
        found = []
        for op in self.file_ops:
            paths = op.path.split(" -> ")
            if any(p == directory or p.startswith(prefix) for p in paths):
                found.append(op)
        return found

    def pids(self):
        """Return every process and thread id that appears in the log."""
        return set(self._tgid)

    def connects_by_family(self):
        counts = collections.Counter(c.family for c in self.connects)
        return dict(counts)


def load(path, cwd):
    """Parse the strace log at path; cwd is the traced command's cwd."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return Trace(f.read(), cwd)
