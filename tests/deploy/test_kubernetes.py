# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""deploy/kubernetes/daemonset.yaml against the Kubernetes API schema and
the settings the tracer needs. test_live_deploy runs its command line."""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_support as support  # noqa: E402

TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"


class KubernetesSchemaTest(unittest.TestCase):
    def setUp(self):
        with open(support.DAEMONSET) as manifest:
            self.text = manifest.read()

    def validate_text(self, text):
        path = os.path.join(support.make_tempdir(self, "ccapm-k8s-"), "manifest.yaml")
        with open(path, "w") as manifest:
            manifest.write(text)
        return support.validate_manifests(self, path)

    def mutated(self, old, new):
        self.assertIn(old, self.text)
        return self.text.replace(old, new, 1)

    def test_manifest_matches_api_schema(self):
        result = support.validate_manifests(self, support.DAEMONSET)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("3 objects checked, 0 problems", result.stdout)

    def test_validator_rejects_unknown_field(self):
        result = self.validate_text(self.mutated("hostPID: true", "hostPid: true"))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn('unknown field "spec.template.spec.hostPid"', result.stdout)

    def test_validator_rejects_nested_unknown_field(self):
        result = self.validate_text(self.mutated("readOnly: true", "readonly: true"))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertRegex(result.stdout, r'unknown field "spec\.template\.spec\.containers\[0\]'
                                        r'\.volumeMounts\[\d\]\.readonly"')

    def test_validator_rejects_wrong_type(self):
        result = self.validate_text(self.mutated("hostPID: true", 'hostPID: "yes"'))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("/spec/template/spec/hostPID must be boolean", result.stdout)

    def test_validator_rejects_invalid_enum(self):
        result = self.validate_text(self.mutated("type: RuntimeDefault", "type: Default"))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("seccompProfile/type must be equal to one of the allowed values",
                      result.stdout)

    def test_validator_rejects_missing_required_field(self):
        result = self.validate_text(self.mutated("        - name: ccapm-trace\n          image:",
                                                 "        - image:"))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("containers/0 must have required property name", result.stdout)


class DaemonSetSettingsTest(unittest.TestCase):
    def setUp(self):
        self.documents = support.yaml_documents(self, support.DAEMONSET)
        self.kinds = {document["kind"]: document for document in self.documents}
        self.daemonset = self.kinds["DaemonSet"]
        self.pod = self.daemonset["spec"]["template"]["spec"]
        self.container = self.pod["containers"][0]
        self.volumes = {volume["name"]: volume for volume in self.pod["volumes"]}
        self.mounts = {mount["name"]: mount for mount in self.container["volumeMounts"]}

    def test_namespace_and_service_account(self):
        self.assertEqual(set(self.kinds), {"Namespace", "ServiceAccount", "DaemonSet"})
        namespace = self.kinds["Namespace"]["metadata"]["name"]
        self.assertEqual(self.kinds["ServiceAccount"]["metadata"]["namespace"], namespace)
        self.assertEqual(self.daemonset["metadata"]["namespace"], namespace)
        self.assertEqual(self.pod["serviceAccountName"],
                         self.kinds["ServiceAccount"]["metadata"]["name"])
        self.assertIs(self.pod["automountServiceAccountToken"], False)

    def test_selector_matches_template(self):
        selector = self.daemonset["spec"]["selector"]["matchLabels"]
        labels = self.daemonset["spec"]["template"]["metadata"]["labels"]
        for key, value in selector.items():
            self.assertEqual(labels.get(key), value)

    def test_host_pid(self):
        self.assertIs(self.pod["hostPID"], True)

    def test_tolerates_every_taint(self):
        self.assertIn({"operator": "Exists"}, self.pod["tolerations"])

    def test_least_capabilities(self):
        context = self.container["securityContext"]
        self.assertIs(context["privileged"], False)
        self.assertIs(context["allowPrivilegeEscalation"], False)
        self.assertIs(context["readOnlyRootFilesystem"], True)
        self.assertEqual(context["capabilities"]["drop"], ["ALL"])
        self.assertEqual(context["capabilities"]["add"], support.LEAST_CAPABILITIES)

    def test_btf_mounted_read_only(self):
        self.assertEqual(self.volumes["btf"]["hostPath"]["path"], "/sys/kernel/btf")
        self.assertEqual(self.mounts["btf"]["mountPath"], "/sys/kernel/btf")
        self.assertIs(self.mounts["btf"]["readOnly"], True)

    def test_textfile_dir_shared_with_host(self):
        self.assertEqual(self.volumes["textfile"]["hostPath"]["path"], TEXTFILE_DIR)
        self.assertEqual(self.mounts["textfile"]["mountPath"], TEXTFILE_DIR)
        self.assertFalse(self.mounts["textfile"].get("readOnly", False))
        args = self.container["args"]
        self.assertEqual(args[args.index("--textfile-dir") + 1], TEXTFILE_DIR)

    def test_textfile_dir_is_tracer_default(self):
        binary = support.require_binary(self)
        help_text = support.run([binary, "--help"]).stdout
        self.assertIn(f"(default: {TEXTFILE_DIR})", help_text)

    def test_tracefs_mounted_read_only(self):
        self.assertEqual(self.volumes["tracefs"]["hostPath"]["path"], "/sys/kernel/tracing")
        self.assertEqual(self.mounts["tracefs"]["mountPath"], "/sys/kernel/tracing")
        self.assertIs(self.mounts["tracefs"]["readOnly"], True)

    def test_no_home_or_debugfs_mounts(self):
        for volume in self.pod["volumes"]:
            path = volume.get("hostPath", {}).get("path", "")
            with self.subTest(volume=volume["name"]):
                self.assertFalse(path.startswith(("/home", "/root")), path)
                self.assertFalse(path.startswith("/sys/kernel/debug"), path)

    def test_every_mount_is_a_volume(self):
        self.assertEqual(set(self.mounts), set(self.volumes))

    def test_image_tag_matches_version(self):
        with open(os.path.join(support.REPO, "Makefile")) as makefile:
            version = re.search(r"^VERSION := (\S+)$", makefile.read(), re.MULTILINE).group(1)
        self.assertTrue(self.container["image"].endswith(f":{version}"), self.container["image"])

    def test_stops_within_grace_period(self):
        # The tracer exits within 2 s of SIGTERM, and test_live_deploy checks
        # that it stops within this grace period.
        self.assertGreaterEqual(self.pod["terminationGracePeriodSeconds"], 5)


if __name__ == "__main__":
    unittest.main()
