// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Container and pod metadata from /proc/PID/cgroup, over the path shapes
 * runtimes and kubelets write.  The shapes come from the runtimes' and
 * kubelet's naming rules and from files published by others (container
 * tagging tests of tracing libraries, runtime issue reports); the ids here
 * are made up.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "unit.h"

#include "base/proc.h"
#include "meta/cgroup_meta.h"

#define CID "2723ae7a9cbbae268fde3d3bd7d180a985337507ae17f82dc5ebb738c7817205"
/* The container a kind or k3d node runs in, around a pod's container. */
#define NODE "d266c8b0d1549d08f530251988867e164c1be0b1d02abdf962801922978ebda8"
#define UID "0dad58a3-4bd8-4bbd-8b83-e92693d4d6f9"
#define UID_ "0dad58a3_4bd8_4bbd_8b83_e92693d4d6f9"
/* The kubelet names static pods by a hash of their manifest. */
#define STATIC_UID "6e1d5f0ba2d1c3f8e4a7b9c0d2e4f6a8"

struct shape {
	const char *what;
	const char *cgroup;
	const char *container_id;
	const char *pod_uid;
	enum ks_container_runtime runtime;
};

static const struct shape shapes[] = {
	/* Kubernetes, systemd driver, cgroup v2. */
	{ "containerd, burstable",
	  "0::/kubepods.slice/kubepods-burstable.slice/"
	  "kubepods-burstable-pod" UID_ ".slice/cri-containerd-" CID ".scope\n",
	  CID, UID, KS_RUNTIME_CONTAINERD },
	{ "containerd, besteffort",
	  "0::/kubepods.slice/kubepods-besteffort.slice/"
	  "kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID
	  ".scope\n",
	  CID, UID, KS_RUNTIME_CONTAINERD },
	{ "CRI-O, guaranteed (straight under kubepods.slice)",
	  "0::/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" CID ".scope\n",
	  CID, UID, KS_RUNTIME_CRIO },
	{ "CRI-O's conmon: in the pod, outside the container",
	  "0::/kubepods.slice/kubepods-burstable.slice/"
	  "kubepods-burstable-pod" UID_ ".slice/crio-conmon-" CID ".scope\n",
	  "", UID, KS_RUNTIME_NONE },
	{ "Docker (dockershim), systemd driver, cgroup v1",
	  "4:memory:/kubepods.slice/kubepods-pod" UID_ ".slice/docker-" CID
	  ".scope\n"
	  "1:name=systemd:/kubepods.slice/kubepods-pod" UID_
	  ".slice/docker-" CID ".scope\n",
	  CID, UID, KS_RUNTIME_DOCKER },
	{ "static pod, systemd driver",
	  "0::/kubepods.slice/kubepods-burstable.slice/"
	  "kubepods-burstable-pod" STATIC_UID ".slice/cri-containerd-" CID
	  ".scope\n",
	  CID, STATIC_UID, KS_RUNTIME_CONTAINERD },
	{ "the pod's own cgroup",
	  "0::/kubepods.slice/kubepods-besteffort.slice/"
	  "kubepods-besteffort-pod" UID_ ".slice\n",
	  "", UID, KS_RUNTIME_NONE },

	/* Kubernetes, cgroupfs driver (k3s's default too). */
	{ "cgroupfs, besteffort, cgroup v1",
	  "11:perf_event:/kubepods/besteffort/pod" UID "/" CID "\n"
	  "8:cpu,cpuacct:/kubepods/besteffort/pod" UID "/" CID "\n"
	  "1:name=systemd:/kubepods/besteffort/pod" UID "/" CID "\n",
	  CID, UID, KS_RUNTIME_UNKNOWN },
	{ "cgroupfs, burstable, cgroup v2",
	  "0::/kubepods/burstable/pod" UID "/" CID "\n", CID, UID,
	  KS_RUNTIME_UNKNOWN },
	{ "cgroupfs, guaranteed (GKE)",
	  "6:cpu,cpuacct:/kubepods/pod" UID "/" CID "\n", CID, UID,
	  KS_RUNTIME_UNKNOWN },
	{ "cgroupfs, CRI-O",
	  "0::/kubepods/besteffort/pod" UID "/crio-" CID "\n", CID, UID,
	  KS_RUNTIME_CRIO },
	{ "cgroupfs, static pod",
	  "0::/kubepods/burstable/pod" STATIC_UID "/" CID "\n", CID, STATIC_UID,
	  KS_RUNTIME_UNKNOWN },

	/* Nodes that are containers: the innermost container wins. */
	{ "kind pod, seen from inside the node",
	  "0::/kubelet.slice/kubelet-kubepods.slice/"
	  "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UID_
	  ".slice/cri-containerd-" CID ".scope\n",
	  CID, UID, KS_RUNTIME_CONTAINERD },
	{ "kind pod, seen from the host",
	  "0::/system.slice/docker-" NODE ".scope/kubelet.slice/"
	  "kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	  "kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID
	  ".scope\n",
	  CID, UID, KS_RUNTIME_CONTAINERD },
	{ "kind node's own systemd, seen from the host",
	  "0::/system.slice/docker-" NODE ".scope/init.scope\n", NODE, "",
	  KS_RUNTIME_DOCKER },
	{ "k3d pod, cgroup v1, seen from the host",
	  "9:memory:/docker/" NODE "/kubepods/burstable/pod" UID "/" CID "\n",
	  CID, UID, KS_RUNTIME_UNKNOWN },
	{ "Docker in Docker", "4:memory:/docker/" NODE "/docker/" CID "\n", CID,
	  "", KS_RUNTIME_DOCKER },

	/* Cgroup namespaces: paths outside the reader's start with "/..". */
	{ "another pod, read from a pod with its own cgroup namespace",
	  "0::/../../kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID
	  ".scope\n",
	  CID, UID, KS_RUNTIME_CONTAINERD },
	{ "a host service, read from a pod with its own cgroup namespace",
	  "0::/../../../../system.slice/sshd.service\n", "", "",
	  KS_RUNTIME_NONE },
	{ "inside a container with its own cgroup namespace", "0::/\n", "", "",
	  KS_RUNTIME_NONE },

	/* Docker without Kubernetes. */
	{ "Docker, cgroupfs driver, hybrid host",
	  "12:net_cls,net_prio:/docker/" CID "\n"
	  "10:rdma:/\n"
	  "1:name=systemd:/docker/" CID "\n"
	  "0::/system.slice/containerd.service\n",
	  CID, "", KS_RUNTIME_DOCKER },
	{ "Docker, systemd driver, cgroup v1",
	  "10:devices:/system.slice/docker-" CID ".scope\n"
	  "2:cpuacct,cpu:/system.slice/docker-" CID ".scope\n",
	  CID, "", KS_RUNTIME_DOCKER },
	{ "Docker, systemd driver, cgroup v2",
	  "0::/system.slice/docker-" CID ".scope\n", CID, "",
	  KS_RUNTIME_DOCKER },
	{ "a container id straight under the root",
	  "4:memory:/" CID "\n3:cpuacct:/" CID "\n", CID, "",
	  KS_RUNTIME_UNKNOWN },
	{ "an exited container's cgroup",
	  "0::/system.slice/docker-" CID ".scope (deleted)\n", CID, "",
	  KS_RUNTIME_DOCKER },
	{ "Amazon ECS task",
	  "9:perf_event:/ecs/my-cluster/3c8e1f0a9b7d4e2c8f6a5b4d3c2e1f0a/" CID
	  "\n",
	  CID, "", KS_RUNTIME_UNKNOWN },

	/* Podman. */
	{ "Podman, systemd manager", "0::/machine.slice/libpod-" CID ".scope\n",
	  CID, "", KS_RUNTIME_PODMAN },
	{ "Podman, systemd inside the container",
	  "0::/machine.slice/libpod-" CID ".scope/container\n", CID, "",
	  KS_RUNTIME_PODMAN },
	{ "Podman, rootless",
	  "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" CID
	  ".scope\n",
	  CID, "", KS_RUNTIME_PODMAN },
	{ "Podman, cgroupfs manager", "0::/libpod_parent/libpod-" CID "\n", CID,
	  "", KS_RUNTIME_PODMAN },
	{ "Podman's conmon", "0::/machine.slice/libpod-conmon-" CID ".scope\n",
	  "", "", KS_RUNTIME_NONE },

	/* containerd without Kubernetes. */
	{ "nerdctl, systemd driver", "0::/system.slice/nerdctl-" CID ".scope\n",
	  CID, "", KS_RUNTIME_CONTAINERD },
	{ "ctr or nerdctl, cgroupfs driver", "0::/default/" CID "\n", CID, "",
	  KS_RUNTIME_UNKNOWN },
	{ "ctr, systemd inside the container",
	  "0::/default/" CID "/init.scope\n", CID, "", KS_RUNTIME_UNKNOWN },
	{ "the containerd daemon", "0::/system.slice/containerd.service\n", "",
	  "", KS_RUNTIME_NONE },

	/* No container. */
	{ "a login session", "0::/user.slice/user-1000.slice/session-2.scope\n",
	  "", "", KS_RUNTIME_NONE },
	{ "a hybrid host's service",
	  "9:name=systemd:/\n4:memory:/process_api/f122dfcf99b2d99322d47b89094bf8a8\n"
	  "0::/\n",
	  "", "", KS_RUNTIME_NONE },
	{ "empty", "", "", "", KS_RUNTIME_NONE },
	{ "no trailing newline", "0::/system.slice/docker-" CID ".scope", CID,
	  "", KS_RUNTIME_DOCKER },

	/* Almost: not ids, not pods, not cgroup lines. */
	{ "upper-case hex",
	  "0::/docker/2723AE7A9CBBAE268FDE3D3BD7D180A985337507AE17F82DC5EBB738C7817205\n",
	  "", "", KS_RUNTIME_NONE },
	{ "65 hex digits", "0::/docker/a" CID "\n", "", "", KS_RUNTIME_NONE },
	{ "an unknown runtime's prefix",
	  "0::/system.slice/runner-" CID ".scope\n", "", "", KS_RUNTIME_NONE },
	{ "a pod outside kubepods", "0::/something/pod" UID "/" CID "\n", CID,
	  "", KS_RUNTIME_UNKNOWN },
	{ "a dashed UID in a slice name",
	  "0::/kubepods.slice/kubepods-besteffort.slice/"
	  "kubepods-besteffort-pod" UID ".slice\n",
	  "", "", KS_RUNTIME_NONE },
	{ "not cgroup lines",
	  "garbage\n:memory:/docker/" CID "\nx:memory:/docker/" CID
	  "\n0:memory:docker/" CID "\n0::\n",
	  "", "", KS_RUNTIME_NONE },
};

static bool matches(const struct shape *shape)
{
	struct ks_cgroup_meta meta;

	ks_cgroup_meta_parse(shape->cgroup, strlen(shape->cgroup), &meta);
	if (!strcmp(meta.container_id, shape->container_id) &&
	    !strcmp(meta.pod_uid, shape->pod_uid) &&
	    meta.runtime == shape->runtime)
		return true;
	print_error("%s:\n  want container '%s' pod '%s' runtime %d\n"
		    "  got  container '%s' pod '%s' runtime %d\n",
		    shape->what, shape->container_id, shape->pod_uid,
		    shape->runtime, meta.container_id, meta.pod_uid,
		    meta.runtime);
	return false;
}

static void test_path_shapes(void **state)
{
	unsigned int failed = 0;

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		failed += !matches(&shapes[i]);
	assert_int_equal(failed, 0);
}

static void test_reads_only_len_bytes(void **state)
{
	static const char text[] = "0::/docker/" CID "\n";
	struct ks_cgroup_meta meta;

	/* Cut inside the id: 63 digits are no id. */
	ks_cgroup_meta_parse(text, strlen(text) - 2, &meta);
	assert_string_equal(meta.container_id, "");
	ks_cgroup_meta_parse(text, strlen(text) - 1, &meta);
	assert_string_equal(meta.container_id, CID);
}

static void test_reads_a_process_file(void **state)
{
	struct ks_cgroup_meta meta;

	ks_proc_set_root(KS_UNIT_FIXTURES "/proc");
	assert_int_equal(ks_cgroup_meta_read(4242, &meta), 0);
	assert_string_equal(
		meta.container_id,
		"510f357f4d65d61347422b488ee6ae434028d1b87556a0bffc70da8546160734");
	assert_string_equal(meta.pod_uid,
			    "d8fe7ab7-3660-4bce-bb33-85058ff3bf50");
	assert_int_equal(meta.runtime, KS_RUNTIME_CONTAINERD);

	/* A process that has gone. */
	assert_int_equal(ks_cgroup_meta_read(4243, &meta), -ENOENT);
	assert_string_equal(meta.container_id, "");
	assert_string_equal(meta.pod_uid, "");
	ks_proc_set_root("/proc");
}

static void test_reads_its_own_process(void **state)
{
	struct ks_cgroup_meta meta;

	/* What it finds depends on where the test runs; that it reads not. */
	assert_int_equal(ks_cgroup_meta_read((uint32_t)getpid(), &meta), 0);
}

static void test_runtime_names(void **state)
{
	assert_string_equal(ks_container_runtime_name(KS_RUNTIME_DOCKER),
			    "docker");
	assert_string_equal(ks_container_runtime_name(KS_RUNTIME_CONTAINERD),
			    "containerd");
	assert_string_equal(ks_container_runtime_name(KS_RUNTIME_CRIO),
			    "cri-o");
	assert_string_equal(ks_container_runtime_name(KS_RUNTIME_PODMAN),
			    "podman");
	assert_null(ks_container_runtime_name(KS_RUNTIME_UNKNOWN));
	assert_null(ks_container_runtime_name(KS_RUNTIME_NONE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_shapes),
		cmocka_unit_test(test_reads_only_len_bytes),
		cmocka_unit_test(test_reads_a_process_file),
		cmocka_unit_test(test_reads_its_own_process),
		cmocka_unit_test(test_runtime_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
