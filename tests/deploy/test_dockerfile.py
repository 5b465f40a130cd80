# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The Dockerfile, checked without a container engine: its build stage runs
the Makefile's commands, which this test runs too, and its runtime stage
contains what the installed binary needs."""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_support as support  # noqa: E402

# The directory the build stage installs into with DESTDIR, and the PREFIX.
DESTDIR = "/out"
PREFIX = "/usr"


class DockerfileTest(unittest.TestCase):
    def setUp(self):
        self.stages = support.dockerfile_stages()
        self.assertEqual(len(self.stages), 2, "expected a build stage and a runtime stage")
        self.build, self.runtime = self.stages

    def commands(self, stage):
        """Return the shell commands of a stage's RUN lines, split at &&."""
        commands = []
        for instruction, argument in stage["instructions"]:
            if instruction == "RUN":
                commands += [command.strip() for command in argument.split("&&")]
        return commands

    def test_debian_bases_of_one_release(self):
        build_image, build_tag = self.build["base"].split(":")
        runtime_image, runtime_tag = self.runtime["base"].split(":")
        self.assertEqual(build_image, "debian")
        self.assertEqual(runtime_image, "debian")
        self.assertEqual(runtime_tag, f"{build_tag}-slim")
        with open("/etc/os-release") as os_release:
            codename = re.search(r"^VERSION_CODENAME=(\S+)$", os_release.read(), re.MULTILINE)
        # The tests check the binary built on this machine against the image.
        self.assertEqual(build_tag, codename.group(1))

    def test_build_stage_runs_make_deps(self):
        self.assertIn(support.make_recipe("deps")[0], self.commands(self.build))

    def test_build_stage_runs_make_and_make_install(self):
        commands = self.commands(self.build)
        self.assertIn("make", commands)
        self.assertIn(f"make install DESTDIR={DESTDIR} PREFIX={PREFIX}", commands)
        self.assertLess(commands.index("make"),
                        commands.index(f"make install DESTDIR={DESTDIR} PREFIX={PREFIX}"))

    def test_build_stage_copies_sources_after_packages(self):
        instructions = [instruction for instruction, _ in self.build["instructions"]]
        copy_all = self.build["instructions"].index(("COPY", ". ."))
        first_run = instructions.index("RUN")
        self.assertLess(first_run, copy_all, "packages are installed before the sources change")

    def test_dockerignore_excludes_build_output(self):
        with open(os.path.join(support.REPO, ".dockerignore")) as ignore:
            entries = {line.strip() for line in ignore if line.strip()}
        self.assertIn("build", entries)
        self.assertIn("tests/.cache", entries)

    def install_tree(self):
        """Run the build stage's `make install` into a temporary DESTDIR."""
        support.require_binary(self)
        root = support.make_tempdir(self, "ccapm-install-")
        support.run(["make", "--no-print-directory", "install", f"DESTDIR={root}",
                     f"PREFIX={PREFIX}"], cwd=support.REPO)
        return root

    def copies_from_build(self):
        copies = []
        for instruction, argument in self.runtime["instructions"]:
            if instruction == "COPY" and argument.startswith(f"--from={self.build['name']} "):
                source, destination = argument.split()[1:]
                copies.append((source, destination))
        return copies

    def test_runtime_copies_installed_files(self):
        root = self.install_tree()
        copies = self.copies_from_build()
        self.assertTrue(copies)
        for source, _ in copies:
            with self.subTest(source=source):
                self.assertTrue(source.startswith(DESTDIR + "/"))
                self.assertTrue(os.path.exists(os.path.join(root, source[len(DESTDIR) + 1:])))

    def test_entrypoint_is_copied_binary(self):
        entrypoint = [argument for instruction, argument in self.runtime["instructions"]
                      if instruction == "ENTRYPOINT"]
        self.assertEqual(len(entrypoint), 1)
        argv = json.loads(entrypoint[0])
        self.assertEqual(argv, [f"{PREFIX}/sbin/ccapm-trace"])
        self.assertIn((f"{DESTDIR}{PREFIX}/sbin/ccapm-trace", argv[0]), self.copies_from_build())

    def test_default_command_is_accepted(self):
        cmd = [json.loads(argument) for instruction, argument in self.runtime["instructions"]
               if instruction == "CMD"]
        self.assertEqual(len(cmd), 1)
        self.assertEqual(cmd[0], ["--textfile-dir", "/var/lib/prometheus/node-exporter"])

    def test_runtime_installs_linked_libraries(self):
        """Every shared library the binary links comes from a package that
        the runtime stage installs, or from libc6, which every image has."""
        root = self.install_tree()
        binary = os.path.join(root, "usr", "sbin", "ccapm-trace")
        installed = set(re.findall(r"--no-install-recommends ([^&]+)",
                                   " ".join(self.commands(self.runtime)))[0].split())
        libraries = re.findall(r"=> (/\S+)", support.run(["ldd", binary]).stdout)
        self.assertTrue(libraries)
        for library in libraries:
            with self.subTest(library=library):
                owner = support.run(["dpkg", "-S", os.path.realpath(library)], check=False)
                if owner.returncode != 0:
                    owner = support.run(["dpkg", "-S", library])
                package = owner.stdout.split(":")[0]
                if package != "libc6":
                    self.assertIn(package, installed)


if __name__ == "__main__":
    unittest.main()
