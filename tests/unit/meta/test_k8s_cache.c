// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* This node's pods, kept as lists and watch events say, within bounds. */
#include <stdio.h>

#include "unit.h"

#include "meta/k8s_cache.h"

#define UID_A "3c1f2a8e-5b6d-4e7f-9a0b-1c2d3e4f5a6b"
#define UID_B "7e8f9a0b-1c2d-4e3f-8a5b-6c7d8e9f0a1b"
#define CID_A "aaaaaaaa0123456789abcdef0123456789abcdef0123456789abcdefbbbbbbbb"

/* A pod of ReplicaSet rs in namespace shop, its container cid running. */
static void make_pod(struct ks_k8s_pod *pod, const char *uid, const char *rs,
		     const char *cid)
{
	char text[1024];
	json_object *obj;

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"%s-x\",\"namespace\":\"shop\","
		 "\"uid\":\"%s\",\"ownerReferences\":[{\"apiVersion\":"
		 "\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"%s\","
		 "\"uid\":\"u\",\"controller\":true}]},\"status\":{"
		 "\"containerStatuses\":[{\"name\":\"app\",\"containerID\":"
		 "\"containerd://%s\"}]}}",
		 rs, uid, rs, cid);
	obj = json_tokener_parse(text);
	assert_int_equal(ks_k8s_pod_parse(obj, pod), 0);
	json_object_put(obj);
}

static void test_owner_makes_it_complete(void **state)
{
	struct ks_k8s_cache_config cfg = { .max_pods = 8 };
	struct ks_k8s_cache *cache = ks_k8s_cache_new(&cfg);
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	struct ks_k8s_ref deployment = { "Deployment", "checkout" };
	struct ks_k8s_owner_query queries[4];
	struct ks_k8s_pod pod;
	uint64_t generation = ks_k8s_cache_generation(cache);

	assert_int_equal(
		ks_k8s_cache_add_attrs(cache, UID_A, CID_A, KS_K8S_ALL, &attrs),
		KS_K8S_UNKNOWN);
	assert_int_equal(attrs.nr, 0);
	make_pod(&pod, UID_A, "checkout-1", CID_A);
	ks_k8s_cache_put(cache, &pod);
	make_pod(&pod, UID_B, "checkout-1", CID_A);
	ks_k8s_cache_put(cache, &pod);
	assert_true(ks_k8s_cache_generation(cache) > generation);

	/* Both pods name one ReplicaSet: looked up once. */
	assert_int_equal(ks_k8s_cache_unresolved(cache, queries, 4), 1);
	assert_string_equal(queries[0].namespace_name, "shop");
	assert_string_equal(queries[0].kind, "ReplicaSet");
	assert_string_equal(queries[0].name, "checkout-1");
	assert_int_equal(
		ks_k8s_cache_add_attrs(cache, UID_A, CID_A, KS_K8S_ALL, &attrs),
		KS_K8S_POD);
	assert_string_equal(ks_otlp_attrs_find_str(&attrs, "service.name"),
			    "checkout-1");
	ks_otlp_attrs_release(&attrs);

	generation = ks_k8s_cache_generation(cache);
	ks_k8s_cache_set_owner(cache, &queries[0], &deployment);
	assert_true(ks_k8s_cache_generation(cache) > generation);
	assert_int_equal(ks_k8s_cache_unresolved(cache, queries, 4), 0);
	assert_int_equal(
		ks_k8s_cache_add_attrs(cache, UID_A, CID_A, KS_K8S_ALL, &attrs),
		KS_K8S_COMPLETE);
	assert_string_equal(ks_otlp_attrs_find_str(&attrs, "service.name"),
			    "checkout");
	assert_string_equal(
		ks_otlp_attrs_find_str(&attrs, "k8s.container.name"), "app");
	ks_otlp_attrs_release(&attrs);
	/* A container the pod does not (yet) list. */
	assert_int_equal(
		ks_k8s_cache_add_attrs(cache, UID_A, "ff", KS_K8S_ALL, &attrs),
		KS_K8S_POD);
	ks_otlp_attrs_release(&attrs);
	ks_k8s_cache_free(cache);
}

static void test_list_replaces_and_is_bounded(void **state)
{
	struct ks_k8s_cache_config cfg = { .max_pods = 1 };
	struct ks_k8s_cache *cache = ks_k8s_cache_new(&cfg);
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	struct ks_k8s_owner_query query;
	struct ks_k8s_cache_stats stats;
	struct ks_k8s_ref none = { 0 };
	struct ks_k8s_pod pod;

	make_pod(&pod, UID_A, "checkout-1", CID_A);
	ks_k8s_cache_put(cache, &pod);
	make_pod(&pod, UID_B, "checkout-1", CID_A);
	ks_k8s_cache_put(cache, &pod);
	ks_k8s_cache_stats(cache, &stats);
	assert_int_equal(stats.pods, 1);
	assert_int_equal(stats.pods_refused, 1);
	assert_int_equal(ks_k8s_cache_unresolved(cache, &query, 1), 1);
	ks_k8s_cache_set_owner(cache, &query, &none);

	/* A list without A: A and its owner go, B fits now. */
	ks_k8s_cache_begin_list(cache);
	make_pod(&pod, UID_B, "ledger-1", CID_A);
	ks_k8s_cache_put(cache, &pod);
	ks_k8s_cache_end_list(cache);
	ks_k8s_cache_stats(cache, &stats);
	assert_int_equal(stats.pods, 1);
	assert_int_equal(stats.owners, 0);
	assert_int_equal(
		ks_k8s_cache_add_attrs(cache, UID_A, CID_A, KS_K8S_ALL, &attrs),
		KS_K8S_UNKNOWN);
	ks_k8s_cache_remove(cache, UID_B);
	ks_k8s_cache_stats(cache, &stats);
	assert_int_equal(stats.pods, 0);
	ks_k8s_cache_free(cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_makes_it_complete),
		cmocka_unit_test(test_list_replaces_and_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
