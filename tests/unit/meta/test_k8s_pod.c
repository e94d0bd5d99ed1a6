// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pods as the API server sends them (fixtures/k8s/: a PodList and watch
 * events in the API's shapes, managed fields and all), reduced and turned
 * into resource attributes by OpenTelemetry's rules for Kubernetes.
 */
#include <errno.h>
#include <stdio.h>

#include "unit.h"

#include "meta/k8s_pod.h"

#define K8S_FIXTURES KS_UNIT_FIXTURES "/k8s"
#define CHECKOUT_CID \
	"aaaaaaaa0123456789abcdef0123456789abcdef0123456789abcdefbbbbbbbb"

static json_object *list_item(const char *name)
{
	json_object *list = json_object_from_file(K8S_FIXTURES "/pods.json");
	json_object *items, *found = NULL;

	assert_non_null(list);
	assert_true(json_object_object_get_ex(list, "items", &items));
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *pod = json_object_array_get_idx(items, i);

		if (strstr(json_object_to_json_string(pod), name))
			found = json_object_get(pod);
		if (found)
			break;
	}
	json_object_put(list);
	assert_non_null(found);
	return found;
}

static void parse_item(const char *name, struct ks_k8s_pod *pod)
{
	json_object *obj = list_item(name);

	assert_int_equal(ks_k8s_pod_parse(obj, pod), 0);
	json_object_put(obj);
}

static void test_parse_keeps_what_names_telemetry(void **state)
{
	struct ks_k8s_pod pod;

	parse_item("checkout-7d4b9c6f8-x2x9k", &pod);
	assert_string_equal(pod.uid, "3c1f2a8e-5b6d-4e7f-9a0b-1c2d3e4f5a6b");
	assert_string_equal(pod.namespace_name, "shop");
	assert_string_equal(pod.name, "checkout-7d4b9c6f8-x2x9k");
	assert_int_equal(pod.nr_labels, 5);
	/* Only OpenTelemetry's annotations, without their prefix. */
	assert_int_equal(pod.nr_annotations, 1);
	assert_string_equal(pod.annotations[0].key, "team");
	assert_string_equal(pod.annotations[0].value, "payments");
	assert_string_equal(pod.controller.kind, "ReplicaSet");
	assert_string_equal(pod.controller.name, "checkout-7d4b9c6f8");
	assert_int_equal(pod.nr_containers, 2);
	assert_string_equal(ks_k8s_pod_container(&pod, CHECKOUT_CID), "app");
	assert_null(ks_k8s_pod_container(&pod, ""));
	assert_null(ks_k8s_pod_container(&pod, "0123"));
	ks_k8s_pod_clear(&pod);
}

static void test_not_a_pod(void **state)
{
	json_object *obj = json_tokener_parse(
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
		"\"Failure\",\"code\":410,\"reason\":\"Expired\"}");
	struct ks_k8s_pod pod;

	assert_int_equal(ks_k8s_pod_parse(obj, &pod), -EINVAL);
	json_object_put(obj);
	obj = json_tokener_parse("{\"metadata\":{\"name\":\"x\",\"namespace\":"
				 "\"y\",\"uid\":42}}");
	assert_int_equal(ks_k8s_pod_parse(obj, &pod), -EINVAL);
	json_object_put(obj);
}

/* A pending pod's containers have no id yet. */
static void test_watch_event_pod(void **state)
{
	FILE *f = fopen(K8S_FIXTURES "/ledger-events.jsonl", "r");
	char *line = NULL;
	size_t cap = 0;
	json_object *event, *obj;
	struct ks_k8s_pod pod;

	assert_non_null(f);
	assert_true(getline(&line, &cap, f) > 0);
	event = json_tokener_parse(line);
	assert_true(json_object_object_get_ex(event, "object", &obj));
	assert_int_equal(ks_k8s_pod_parse(obj, &pod), 0);
	assert_string_equal(pod.controller.kind, "StatefulSet");
	assert_int_equal(pod.nr_containers, 1);
	assert_string_equal(pod.containers[0].id, "");
	ks_k8s_pod_clear(&pod);
	json_object_put(event);
	free(line);
	fclose(f);
}

static void test_service_from_the_deployment(void **state)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	struct ks_k8s_ref deployment = { "Deployment", "checkout" };
	struct ks_k8s_pod pod;

	parse_item("checkout-7d4b9c6f8-x2x9k", &pod);
	ks_k8s_pod_add_attrs(&pod, CHECKOUT_CID, &deployment, false, KS_K8S_ALL,
			     &attrs);
	assert_string_equal(ks_otlp_attrs_find_str(&attrs, "service.name"),
			    "checkout");
	assert_string_equal(ks_otlp_attrs_find_str(&attrs, "service.namespace"),
			    "shop");
	assert_string_equal(
		ks_otlp_attrs_find_str(&attrs, "service.instance.id"),
		"shop.checkout-7d4b9c6f8-x2x9k.app");
	assert_null(ks_otlp_attrs_find_str(&attrs, "service.version"));
	assert_string_equal(ks_otlp_attrs_find_str(&attrs, "team"), "payments");
	assert_string_equal(
		ks_otlp_attrs_find_str(&attrs, "k8s.deployment.name"),
		"checkout");
	assert_string_equal(
		ks_otlp_attrs_find_str(&attrs, "k8s.replicaset.name"),
		"checkout-7d4b9c6f8");
	assert_string_equal(
		ks_otlp_attrs_find_str(&attrs, "k8s.container.name"), "app");
	assert_string_equal(ks_otlp_attrs_find_str(&attrs, "k8s.pod.label.app"),
			    "checkout");
	assert_string_equal(ks_otlp_attrs_find_str(
				    &attrs, "k8s.pod.label.pod-template-hash"),
			    "7d4b9c6f8");
	ks_otlp_attrs_release(&attrs);

	/* The ReplicaSet's owner not known (yet): the ReplicaSet names it. */
	ks_k8s_pod_add_attrs(&pod, "", NULL, false, KS_K8S_ALL, &attrs);
	assert_string_equal(ks_otlp_attrs_find_str(&attrs, "service.name"),
			    "checkout-7d4b9c6f8");
	assert_null(ks_otlp_attrs_find_str(&attrs, "k8s.container.name"));
	assert_null(ks_otlp_attrs_find_str(&attrs, "service.instance.id"));
	ks_otlp_attrs_release(&attrs);

	/* Opted in, the well-known labels come first: instance, then name. */
	ks_k8s_pod_add_attrs(&pod, CHECKOUT_CID, &deployment, true, KS_K8S_ALL,
			     &attrs);
	assert_string_equal(ks_otlp_attrs_find_str(&attrs, "service.name"),
			    "shop-checkout");
	assert_string_equal(ks_otlp_attrs_find_str(&attrs, "service.version"),
			    "2.4.1");
	ks_otlp_attrs_release(&attrs);
	ks_k8s_pod_clear(&pod);
}

static void test_service_from_annotations_and_cronjobs(void **state)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	struct ks_k8s_ref cronjob = { "CronJob", "report" };
	struct ks_k8s_pod pod;

	parse_item("billing-worker", &pod);
	ks_k8s_pod_add_attrs(&pod, NULL, NULL, true, KS_K8S_ALL, &attrs);
	assert_string_equal(ks_otlp_attrs_find_str(&attrs, "service.name"),
			    "billing");
	assert_string_equal(ks_otlp_attrs_find_str(&attrs, "service.namespace"),
			    "finance");
	ks_otlp_attrs_release(&attrs);
	ks_k8s_pod_clear(&pod);

	parse_item("report-28401234-q7w8e", &pod);
	ks_k8s_pod_add_attrs(&pod, NULL, &cronjob, false, KS_K8S_ALL, &attrs);
	assert_string_equal(ks_otlp_attrs_find_str(&attrs, "service.name"),
			    "report");
	assert_string_equal(ks_otlp_attrs_find_str(&attrs, "k8s.cronjob.name"),
			    "report");
	assert_string_equal(ks_otlp_attrs_find_str(&attrs, "k8s.job.name"),
			    "report-28401234");
	ks_otlp_attrs_release(&attrs);
	ks_k8s_pod_clear(&pod);
}

/* A pod with a thousand labels costs what its budget allows. */
static void test_labels_are_bounded(void **state)
{
	json_object *obj = list_item("checkout-7d4b9c6f8-x2x9k");
	json_object *metadata, *labels;
	struct ks_k8s_pod pod;
	char key[32], value[64];
	size_t kept = 0;

	json_object_object_get_ex(obj, "metadata", &metadata);
	json_object_object_get_ex(metadata, "labels", &labels);
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "l%d", i);
		json_object_object_add(labels, key,
				       json_object_new_string(value));
	}
	assert_int_equal(ks_k8s_pod_parse(obj, &pod), 0);
	assert_int_equal(pod.nr_labels, KS_K8S_MAX_LABELS);
	assert_int_equal(pod.nr_dropped, 1005 - KS_K8S_MAX_LABELS);
	for (unsigned int i = 0; i < pod.nr_labels; i++)
		kept += strlen(pod.labels[i].key) + strlen(pod.labels[i].value);
	assert_true(kept <= KS_K8S_POD_TEXT_BUDGET);
	ks_k8s_pod_clear(&pod);
	json_object_put(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_keeps_what_names_telemetry),
		cmocka_unit_test(test_not_a_pod),
		cmocka_unit_test(test_watch_event_pod),
		cmocka_unit_test(test_service_from_the_deployment),
		cmocka_unit_test(test_service_from_annotations_and_cronjobs),
		cmocka_unit_test(test_labels_are_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
