// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pod namespaces and names from the kubelet's pod log directories, over a
 * fixture copy of a node's /var/log/pods (one directory per pod, one per
 * container in it, as the kubelet lays them out).
 */
#include <errno.h>

#include "unit.h"

#include "meta/pod_logs.h"

#define POD_LOGS KS_UNIT_FIXTURES "/pod-logs"
#define WEB_UID "d8fe7ab7-3660-4bce-bb33-85058ff3bf50"

static void test_splits_namespace_and_name(void **state)
{
	struct ks_pod_names names;

	assert_true(ks_pod_names_from_log_dir("default_web-0_" WEB_UID, WEB_UID,
					      &names));
	assert_string_equal(names.namespace_name, "default");
	assert_string_equal(names.pod_name, "web-0");

	/* Pod names may hold dots; static pods have 32-digit UIDs. */
	assert_true(ks_pod_names_from_log_dir(
		"kube-system_etcd-node.example_6e1d5f0ba2d1c3f8e4a7b9c0d2e4f6a8",
		"6e1d5f0ba2d1c3f8e4a7b9c0d2e4f6a8", &names));
	assert_string_equal(names.namespace_name, "kube-system");
	assert_string_equal(names.pod_name, "etcd-node.example");
}

static void test_rejects_other_names(void **state)
{
	static const char *const others[] = {
		/* Another pod's, or a UID that only ends like ours. */
		"default_web-1_0dad58a3-4bd8-4bbd-8b83-e92693d4d6f9",
		"default_web-0_x" WEB_UID,
		"default_web-0-" WEB_UID,
		/* Not NAMESPACE_NAME_UID. */
		WEB_UID,
		"_" WEB_UID,
		"default_" WEB_UID,
		"_web-0_" WEB_UID,
		"default__" WEB_UID,
		"default_web_0_" WEB_UID,
		/* A namespace of 64 characters is no DNS label. */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"_web-0_" WEB_UID,
		".",
		"..",
	};
	struct ks_pod_names names;

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		if (ks_pod_names_from_log_dir(others[i], WEB_UID, &names))
			fail_msg("accepted '%s'", others[i]);
	}
	assert_false(ks_pod_names_from_log_dir("default_web-0_", "", &names));
}

static void test_finds_pods_in_the_logs_directory(void **state)
{
	struct ks_pod_names names;

	assert_int_equal(ks_pod_names_lookup(POD_LOGS, WEB_UID, &names), 0);
	assert_string_equal(names.namespace_name, "default");
	assert_string_equal(names.pod_name, "web-0");

	assert_int_equal(
		ks_pod_names_lookup(POD_LOGS,
				    "0dad58a3-4bd8-4bbd-8b83-e92693d4d6f9",
				    &names),
		0);
	assert_string_equal(names.namespace_name, "kube-system");
	assert_string_equal(names.pod_name, "coredns-5d78c9869d-8xk2p");

	assert_int_equal(ks_pod_names_lookup(POD_LOGS,
					     "6e1d5f0ba2d1c3f8e4a7b9c0d2e4f6a8",
					     &names),
			 0);
	assert_string_equal(names.pod_name, "kube-apiserver-control-plane");

	assert_int_equal(
		ks_pod_names_lookup(POD_LOGS,
				    "7e80d13c-76d7-4a59-a13d-820f24649049",
				    &names),
		0);
	assert_string_equal(names.namespace_name, "shop");
	assert_string_equal(names.pod_name, "cart.v2-7f9c6b8d4-qx2lm");
}

static void test_reports_pods_it_cannot_find(void **state)
{
	struct ks_pod_names names;

	assert_int_equal(
		ks_pod_names_lookup(POD_LOGS,
				    "ffffffff-a56e-4278-987a-22de18008dbe",
				    &names),
		-ENOENT);
	assert_int_equal(ks_pod_names_lookup(KS_UNIT_FIXTURES "/no-such-dir",
					     WEB_UID, &names),
			 -ENOENT);
	assert_int_equal(ks_pod_names_lookup(POD_LOGS "/default_web-0_" WEB_UID
						      "/nginx/0.log",
					     WEB_UID, &names),
			 -ENOTDIR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splits_namespace_and_name),
		cmocka_unit_test(test_rejects_other_names),
		cmocka_unit_test(test_finds_pods_in_the_logs_directory),
		cmocka_unit_test(test_reports_pods_it_cannot_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
