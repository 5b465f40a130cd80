# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The tracer run the way the DaemonSet and the systemd unit run it.

No container engine or systemd manager runs on the test machines, so each
test rebuilds the deployment's sandbox around the locally built binary with
unshare(1) and setpriv(1): the same command line, capability set,
no_new_privs flag, mounts and read-only root. A fake agent owned by the
user nobody runs before the tracer starts. Its session id is only in its
private live registry, <home>/.claude/sessions/<pid>.json, and its home is
hidden from the tracer, so the tracer can learn the id only through
/proc/<pid>/root."""

import json
import os
import re
import shlex
import signal
import stat
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_support as support  # noqa: E402

# The DaemonSet and the unit keep the default --interval of 15 s, so wait
# for two rewrites and some slack.
DEFAULT_INTERVAL_WAIT_S = 40


def nearest_existing(path):
    while not os.path.exists(path):
        path = os.path.dirname(path)
    return path


def mount_target_setup(target):
    """Return sandbox lines that make target exist inside the namespace
    without touching the host: an empty tmpfs on its nearest existing
    ancestor, then mkdir."""
    if os.path.isdir(target):
        return []
    ancestor = nearest_existing(target)
    return [f"mount -t tmpfs -o mode=0755,size=1m ccapm-test-parent {ancestor}",
            f"mkdir -p {target}"]


def install_setup(source, target):
    """Return sandbox lines that put a copy of source at target inside the
    namespace without touching the host: an empty tmpfs on target's
    directory, or on its nearest existing ancestor, then cp.

    The copy runs before the sandbox hides /tmp and the home directories,
    so the built binary can live under either."""
    directory = os.path.dirname(target)
    ancestor = nearest_existing(directory)
    if ancestor in ("/", "/usr", "/usr/bin", "/usr/sbin", "/bin", "/sbin"):
        raise AssertionError(f"cannot mount over {ancestor} to install {target}")
    quote = shlex.quote
    return [f"mount -t tmpfs -o mode=0755,size=64m ccapm-test-bin {quote(ancestor)}",
            f"mkdir -p {quote(directory)}",
            f"cp {quote(source)} {quote(target)}"]


def traced_pid(strace_pid):
    """Return the pid of the process that strace started, its only child."""
    children = []
    for task in os.listdir(f"/proc/{strace_pid}/task"):
        with open(f"/proc/{strace_pid}/task/{task}/children") as listing:
            children += listing.read().split()
    if len(children) != 1:
        raise AssertionError(f"strace {strace_pid} has children {children}")
    return int(children[0])


class SandboxRun:
    """The tracer started inside a sandbox by a test."""

    def __init__(self, testcase, workdir, script, network_namespace=False):
        self.testcase = testcase
        script_path = os.path.join(workdir, "sandbox.sh")
        with open(script_path, "w") as script_file:
            script_file.write(script)
        argv = ["unshare", "--mount", "--propagation", "private"]
        if network_namespace:
            argv.append("--net")
        argv += ["--", "/bin/sh", script_path]
        self.process = support.start_process(testcase, argv, os.path.join(workdir, "tracer.log"))


@unittest.skipIf(support.live_skip_reason(), support.live_skip_reason())
class LiveDeployTest(unittest.TestCase):
    def setUp(self):
        support.require_binary(self)
        for tool in ("unshare", "setpriv"):
            support.require_tool(self, tool)
        self.workdir = support.make_tempdir(self, "ccapm-deploy-")
        os.chmod(self.workdir, 0o755)
        self.textfile_dir = os.path.join(self.workdir, "textfile")
        os.makedirs(self.textfile_dir)

    def start_agent(self):
        """Start a fake agent owned by the user nobody whose id is only in its registry."""
        self.session_id = str(uuid.uuid4())
        root = os.path.join(self.workdir, "agent")
        os.makedirs(root)
        self.agent = support.FakeAgent(self.addCleanup, root, self.session_id, id_in_argv=False,
                                       as_nobody=True, registry=True)
        self.agent_pid = self.agent.start()

    def wait_for_session(self, run, commands, timeout_s):
        """Wait until the textfile shows the agent's session with the given
        number of commands, and return the parsed samples."""
        def current():
            if not run.process.running():
                raise AssertionError(f"ccapm-trace exited with {run.process.popen.returncode}:\n"
                                     f"{run.process.output()}")
            samples = support.read_textfile(self.textfile_dir)
            value = support.sample_value(samples, "ccapm_commands_total",
                                         session_id=self.session_id)
            return samples if value == commands else None
        return support.wait_until(current, timeout_s,
                                  message=f"{commands} commands of session {self.session_id}")

    def assert_agent_session(self, samples):
        info = support.find_samples(samples, "ccapm_session_info", session_id=self.session_id)
        self.assertEqual(len(info), 1, f"session {self.session_id} missing: {samples}")
        labels = info[0][0]
        self.assertEqual(labels["pid"], str(self.agent_pid))
        self.assertEqual(labels["user"], "nobody")
        self.assertEqual(labels["cwd"], self.agent.work)
        self.assertEqual(support.sample_value(samples, "ccapm_file_ops_total",
                                              session_id=self.session_id, op="write"),
                         support.FakeAgent.FILE_WRITES)

    def stop_within(self, process, limit_s):
        started = time.monotonic()
        status = process.stop(timeout_s=limit_s + 5)
        elapsed = time.monotonic() - started
        self.assertEqual(status, 0, process.output())
        self.assertLess(elapsed, limit_s, f"took {elapsed:.1f} s to stop")

    # --- DaemonSet ------------------------------------------------------------

    def test_daemonset_command_and_mounts(self):
        daemonset = support.daemonset(self)
        pod = daemonset["spec"]["template"]["spec"]
        container = pod["containers"][0]
        context = container["securityContext"]
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        entrypoint = [json.loads(argument) for instruction, argument
                      in support.dockerfile_stages()[-1]["instructions"]
                      if instruction == "ENTRYPOINT"][0]
        self.assertTrue(pod["hostPID"], "the sandbox shares the host's PID namespace")
        self.assertNotIn("command", container, "the image's ENTRYPOINT starts the tracer")
        argv = [support.BINARY] + entrypoint[1:] + container["args"]

        binds, readonly, lines = [], [], []
        for mount in container["volumeMounts"]:
            host_path = volumes[mount["name"]]["hostPath"]["path"]
            if mount.get("readOnly"):
                self.assertTrue(os.path.isdir(host_path), host_path)
                readonly.append(mount["mountPath"])
            else:
                # The host directory of the pod is a temporary one here.
                lines += mount_target_setup(mount["mountPath"])
                binds.append((self.textfile_dir, mount["mountPath"]))
        # The pod has no debugfs mount. Its tracefs mount is bound read-only above.
        hidden = ["/sys/kernel/debug"] if os.path.isdir("/sys/kernel/debug") else []

        self.start_agent()
        hidden.append(self.agent.home)
        prefix = support.setpriv_argv(context["capabilities"]["add"],
                                      no_new_privs=not context["allowPrivilegeEscalation"])
        script = support.sandbox_script(binds=binds, readonly_binds=readonly, hidden=hidden,
                                        readonly_root=context["readOnlyRootFilesystem"],
                                        exec_argv=prefix + argv)
        script = script.replace("set -eu\n", "set -eu\n" + "\n".join(lines) + "\n", 1)
        run = SandboxRun(self, self.workdir, script)
        support.wait_for_textfile(self.textfile_dir, run.process)

        self.wait_for_session(run, 0, timeout_s=20)
        self.agent.run_workload()
        samples = self.wait_for_session(run, support.FakeAgent.COMMANDS, DEFAULT_INTERVAL_WAIT_S)
        self.assert_agent_session(samples)
        self.stop_within(run.process, pod["terminationGracePeriodSeconds"])

    # --- Least privileges -----------------------------------------------------

    def run_with_capabilities(self, capabilities):
        """Run the tracer with only capabilities. Return its exit status, or
        None while it runs, its output, and the samples of its textfile a
        rewrite after the first one, or None if it exited."""
        textfile_dir = os.path.join(self.workdir, "caps-" + "-".join(capabilities).lower())
        os.makedirs(textfile_dir)
        argv = support.setpriv_argv(capabilities, no_new_privs=True) + [
            support.BINARY, "--textfile-dir", textfile_dir, "--interval", "1"]
        process = support.start_process(self, argv, textfile_dir + ".log")
        path = os.path.join(textfile_dir, "ccapm.prom")
        support.wait_until(lambda: not process.running() or os.path.exists(path), 15,
                           message="the tracer to exit or write its textfile")
        if not process.running():
            return process.popen.returncode, process.output(), None
        # Sessions found at start-up are in the first file. One more rewrite
        # gives a settled one.
        time.sleep(1.5)
        samples = support.read_textfile(textfile_dir)
        self.assertEqual(process.stop(), 0, process.output())
        return None, process.output(), samples

    def test_least_capabilities_suffice(self):
        self.start_agent()
        status, output, samples = self.run_with_capabilities(support.LEAST_CAPABILITIES)
        self.assertIsNone(status, output)
        info = support.find_samples(samples, "ccapm_session_info", session_id=self.session_id)
        self.assertEqual(len(info), 1, output)
        self.assertEqual(info[0][0]["user"], "nobody")

    def test_each_capability_needed(self):
        """Without any one of the capabilities the tracer either fails to
        start or cannot find the running session's id."""
        self.start_agent()
        for missing in support.LEAST_CAPABILITIES:
            capabilities = [cap for cap in support.LEAST_CAPABILITIES if cap != missing]
            with self.subTest(missing=missing):
                status, output, samples = self.run_with_capabilities(capabilities)
                if status is not None:
                    self.assertEqual(status, 1, output)
                    self.assertIn("CAP_BPF and CAP_PERFMON", output)
                else:
                    found = support.find_samples(samples, "ccapm_session_info",
                                                 session_id=self.session_id)
                    self.assertEqual(found, [], f"session id found without CAP_{missing}")

    # --- systemd unit -----------------------------------------------------------

    def test_systemd_sandbox(self):
        """Run ExecStart= in a sandbox built from the unit's settings, under
        strace, and check the system calls against SystemCallFilter=."""
        support.require_tool(self, "strace")
        support.require_tool(self, "systemd-analyze")
        service = support.unit_settings()["Service"]
        exec_start = service["ExecStart"][0].split()
        argv = exec_start
        capabilities = [cap[len("CAP_"):] for cap in service["CapabilityBoundingSet"][0].split()]
        self.assertEqual(service["ProtectSystem"], ["strict"])
        self.assertEqual(service["ProtectHome"], ["yes"])
        self.assertEqual(service["PrivateTmp"], ["yes"])
        self.assertEqual(service["PrivateNetwork"], ["yes"])

        writable_target = service["ReadWritePaths"][0]
        lines = install_setup(support.BINARY, exec_start[0]) + mount_target_setup(writable_target)
        hidden = [path for path in ("/home", "/root", "/run/user") if os.path.isdir(path)]
        private_tmp = [path for path in ("/tmp", "/var/tmp") if os.path.isdir(path)]
        strace_log = os.path.join(writable_target, "strace.log")
        prefix = ["strace", "-f", "-qq", "-o", strace_log] + support.setpriv_argv(
            capabilities, no_new_privs=service["NoNewPrivileges"] == ["yes"])

        self.start_agent()
        script = support.sandbox_script(
            binds=[(self.textfile_dir, writable_target)],
            hidden=hidden + private_tmp, writable=private_tmp, readonly_root=True,
            umask=service["UMask"][0], exec_argv=prefix + argv)
        script = script.replace("set -eu\n", "set -eu\n" + "\n".join(lines) + "\n", 1)
        run = SandboxRun(self, self.workdir, script, network_namespace=True)
        support.wait_for_textfile(self.textfile_dir, run.process)

        self.wait_for_session(run, 0, timeout_s=20)
        self.agent.run_workload()
        samples = self.wait_for_session(run, support.FakeAgent.COMMANDS, DEFAULT_INTERVAL_WAIT_S)
        self.assert_agent_session(samples)
        mode = stat.S_IMODE(os.stat(os.path.join(self.textfile_dir, "ccapm.prom")).st_mode)
        self.assertEqual(mode & 0o044, 0o044, "node_exporter's user must be able to read it")

        tracer_pid = traced_pid(run.process.pid)
        started = time.monotonic()
        os.kill(tracer_pid, signal.SIGTERM)
        self.assertEqual(run.process.popen.wait(timeout=15), 0, run.process.output())
        self.assertLess(time.monotonic() - started, float(service["TimeoutStopSec"][0][:-1]))

        with open(os.path.join(self.textfile_dir, "strace.log")) as log:
            trace = log.read()
        self.check_syscalls(trace, service, exec_start[0])

    def check_syscalls(self, trace, service, binary):
        start = trace.find(f'execve("{binary}"')
        self.assertGreaterEqual(start, 0, "the tracer's execve is missing from the trace")
        calls = trace[start:]
        used = set(re.findall(r"^\d+\s+([a-z0-9_]+)\(", calls, re.MULTILINE))
        allowed = set()
        for line in service["SystemCallFilter"]:
            for entry in line.split():
                allowed |= support.syscall_group(entry) if entry.startswith("@") else {entry}
        self.assertIn("bpf", used)
        self.assertEqual(sorted(used - allowed), [], "system calls outside SystemCallFilter=")

        families = set(re.findall(r"^\d+\s+socket\((AF_[A-Z0-9]+)", calls, re.MULTILINE))
        allowed_families = set(service["RestrictAddressFamilies"][0].split())
        self.assertLessEqual(families, allowed_families)
        self.assertNotRegex(calls, r"PROT_WRITE\|PROT_EXEC|PROT_EXEC\|PROT_WRITE",
                            "MemoryDenyWriteExecute=yes forbids writable executable memory")


if __name__ == "__main__":
    unittest.main()
