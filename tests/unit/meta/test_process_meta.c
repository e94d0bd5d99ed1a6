// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What a process says about itself, in its environment, and what wins. */
#include "unit.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/proc.h"
#include "meta/process_meta.h"
#include "meta/self_described.h"
#include "otlp/otlp_resource.h"

#define PID 4321
#define START_TICKS 987654
/* uuid5(4d63009a-8d0f-11ee-aad7-4c796ed8e320, "<boot id>/4321/987654") */
#define DERIVED_INSTANCE_ID "242d9fd6-5daf-5457-8b2b-60053a559943"

static char root[64];

static void test_environment_lookup(void **state)
{
	static const char block[] = "PATH=/bin\0OTEL_SERVICE_NAME=checkout\0"
				    "OTEL_SERVICE_NAME_X=no\0EMPTY=\0";

	assert_string_equal(
		ks_environ_get(block, sizeof(block) - 1, "OTEL_SERVICE_NAME"),
		"checkout");
	assert_string_equal(ks_environ_get(block, sizeof(block) - 1, "EMPTY"),
			    "");
	assert_null(ks_environ_get(block, sizeof(block) - 1, "OTEL"));
	assert_null(ks_environ_get(block, sizeof(block) - 1, "MISSING"));
}

/*
 * The same derivation as Python's uuid.uuid5(UUID("4d63009a-8d0f-11ee-
 * aad7-4c796ed8e320"), "f3b1d7c2-.../4242/987654"), computed apart.
 */
static void test_instance_id_is_uuid5_of_boot_pid_and_start(void **state)
{
	struct ks_host_meta host = { .boot_id = "f3b1d7c2-8a43-4c1e-9d2f-"
						"0a1b2c3d4e5f" };
	char id[KS_UUID_TEXT_SIZE];

	ks_proc_set_root(KS_UNIT_FIXTURES "/proc");
	assert_int_equal(ks_service_instance_id(&host, 4242, 0, id), 0);
	assert_string_equal(id, "eb6c6dee-fff8-52d5-b288-d6785422f14e");
	/* Another boot: another instance, though pid and start match. */
	host.boot_id[0] = '0';
	assert_int_equal(ks_service_instance_id(&host, 4242, 0, id), 0);
	assert_string_not_equal(id, "eb6c6dee-fff8-52d5-b288-d6785422f14e");
	/* A process that is gone has no start time, hence no id. */
	assert_int_equal(ks_service_instance_id(&host, 4243, 0, id), -1);
	/* Unless the model knew when it started. */
	assert_int_equal(ks_service_instance_id(&host, 4243, 987654, id), 0);
	ks_proc_set_root("/proc");
}

/* A /proc/PID of the test's making: its environ is the given variables. */
static int make_process(void **state)
{
	char path[128];
	FILE *f;

	snprintf(root, sizeof(root), "/tmp/ks-proc-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/%d", root, PID);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%d/exe", root, PID);
	assert_int_equal(symlink("/srv/bin/checkout-svc", path), 0);
	snprintf(path, sizeof(path), "%s/%d/status", root, PID);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("Name:\tcheckout-svc\nUid:\t0\t0\t0\t0\n", f);
	fclose(f);
	ks_proc_set_root(root);
	return 0;
}

static int remove_process(void **state)
{
	char command[128];

	ks_proc_set_root("/proc");
	snprintf(command, sizeof(command), "rm -rf %s", root);
	return system(command);
}

/* Writes environ from "A=b" strings (the NULs between them are added). */
static void set_environ(const char *const *vars, size_t nr)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/environ", root, PID);
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < nr; i++)
		fwrite(vars[i], 1, strlen(vars[i]) + 1, f);
	fclose(f);
}

static const struct ks_host_meta host = {
	.boot_id = "f3b1d7c2-8a43-4c1e-9d2f-0a1b2c3d4e5f",
	.name = "node-7",
	.id = "0123456789abcdef0123456789abcdef",
	.k8s_node_name = "node-7.cluster",
};

/* The resource the exporter would send for the process. */
static struct ks_otlp_resource *resource_of_process(void)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

	assert_true(ks_process_meta_add(PID, "checkout-svc", START_TICKS, &host,
					NULL, &attrs));
	return ks_otlp_resource_new(&attrs, NULL);
}

static const OtlpKeyValue *attribute(const struct ks_otlp_resource *res,
				     const char *key)
{
	const OtlpResource *message = ks_otlp_resource_message(res);

	for (size_t i = 0; i < message->n_attributes; i++)
		if (!strcmp(message->attributes[i]->key, key))
			return message->attributes[i];
	return NULL;
}

static const char *string_of(const struct ks_otlp_resource *res,
			     const char *key)
{
	const OtlpKeyValue *kv = attribute(res, key);

	return kv ? kv->value->string_value : NULL;
}

static void test_observed_attributes_win(void **state)
{
	static const char *const vars[] = {
		"OTEL_RESOURCE_ATTRIBUTES=host.name=evil,host.id=1,"
		"process.pid=1,k8s.namespace.name=kube-system,"
		"k8s.node.name=other,container.id=abc,os.type=windows,"
		"telemetry.sdk.name=fake,knotscope.x=1,"
		"deployment.environment=prod%20eu,team=payments",
	};
	struct ks_otlp_resource *res;

	set_environ(vars, 1);
	res = resource_of_process();
	assert_non_null(res);
	assert_string_equal(string_of(res, "host.name"), "node-7");
	assert_string_equal(string_of(res, "host.id"), host.id);
	assert_int_equal(attribute(res, "process.pid")->value->int_value, PID);
	assert_string_equal(string_of(res, "k8s.node.name"), "node-7.cluster");
	assert_string_equal(string_of(res, "os.type"), "linux");
	assert_string_equal(string_of(res, "telemetry.sdk.name"), "knotscope");
	/* Not observed here, and still not the process's to claim. */
	assert_null(attribute(res, "k8s.namespace.name"));
	assert_null(attribute(res, "container.id"));
	assert_null(attribute(res, "knotscope.x"));
	/* What it may say about itself. */
	assert_string_equal(string_of(res, "deployment.environment"),
			    "prod eu");
	assert_string_equal(string_of(res, "team"), "payments");
	assert_string_equal(string_of(res, "service.name"), "checkout-svc");
	ks_otlp_resource_put(res);
}

static void test_own_service_name_wins_over_the_executable(void **state)
{
	static const char *const vars[] = {
		"OTEL_SERVICE_NAME=checkout",
		"OTEL_RESOURCE_ATTRIBUTES=service.name=ignored,"
		"service.version=1.2",
	};
	struct ks_otlp_resource *res;

	set_environ(vars, 2);
	res = resource_of_process();
	assert_string_equal(string_of(res, "service.name"), "checkout");
	assert_string_equal(string_of(res, "service.version"), "1.2");
	assert_string_equal(string_of(res, "process.executable.name"),
			    "checkout-svc");
	ks_otlp_resource_put(res);
}

/*
 * The service's identity is the process's to name, as its own SDK would
 * report it; the agent derives one only for a process that names none.
 */
static void test_own_instance_id_wins_over_the_derived_one(void **state)
{
	static const char *const own[] = {
		"OTEL_RESOURCE_ATTRIBUTES=service.instance.id=checkout-7",
	};
	static const char *const none[] = { "PATH=/bin" };
	struct ks_otlp_resource *res;

	set_environ(own, 1);
	res = resource_of_process();
	assert_string_equal(string_of(res, "service.instance.id"),
			    "checkout-7");
	ks_otlp_resource_put(res);
	set_environ(none, 1);
	res = resource_of_process();
	assert_string_equal(string_of(res, "service.instance.id"),
			    DERIVED_INSTANCE_ID);
	ks_otlp_resource_put(res);
}

static void test_sizes_are_capped(void **state)
{
	static char huge[130 * 1024], many[4096], long_name[512];
	const char *vars[2] = { huge, long_name };
	struct ks_otlp_resource *res;
	size_t len;

	/* 120 KB of one value: ignored whole, not exported verbatim. */
	len = (size_t)snprintf(huge, sizeof(huge),
			       "OTEL_RESOURCE_ATTRIBUTES=team=payments,blob=");
	memset(huge + len, 'x', 120 * 1024);
	snprintf(long_name, sizeof(long_name), "OTEL_SERVICE_NAME=%0300d", 7);
	set_environ(vars, 2);
	res = resource_of_process();
	assert_null(attribute(res, "blob"));
	assert_null(attribute(res, "team"));
	assert_string_equal(string_of(res, "service.name"), "checkout-svc");
	ks_otlp_resource_put(res);

	/* 40 attributes: the first 32 are taken. */
	len = (size_t)snprintf(many, sizeof(many), "OTEL_RESOURCE_ATTRIBUTES=");
	for (int i = 0; i < 40; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len,
					"a%02d=%d,", i, i);
	vars[0] = many;
	set_environ(vars, 1);
	res = resource_of_process();
	assert_non_null(attribute(res, "a31"));
	assert_null(attribute(res, "a32"));
	ks_otlp_resource_put(res);
}

static void test_what_a_process_may_set(void **state)
{
	char value[300];

	assert_true(ks_process_may_set("service.namespace", "shop"));
	assert_true(ks_process_may_set("deployment.environment", "prod"));
	assert_false(ks_process_may_set("host.name", "x"));
	assert_false(ks_process_may_set("process.pid", "1"));
	assert_false(ks_process_may_set("k8s.pod.name", "x"));
	assert_false(ks_process_may_set("container.id", "x"));
	assert_false(ks_process_may_set("os.type", "x"));
	assert_false(ks_process_may_set("telemetry.sdk.language", "x"));
	assert_false(ks_process_may_set("team", "a\nb"));
	assert_false(ks_process_may_set("team", "\xff"));
	memset(value, 'v', 256);
	value[256] = '\0';
	assert_true(ks_process_may_set("team", value));
	strcat(value, "v");
	assert_false(ks_process_may_set("team", value));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_environment_lookup),
		cmocka_unit_test(
			test_instance_id_is_uuid5_of_boot_pid_and_start),
		cmocka_unit_test_setup_teardown(test_observed_attributes_win,
						make_process, remove_process),
		cmocka_unit_test_setup_teardown(
			test_own_service_name_wins_over_the_executable,
			make_process, remove_process),
		cmocka_unit_test_setup_teardown(
			test_own_instance_id_wins_over_the_derived_one,
			make_process, remove_process),
		cmocka_unit_test_setup_teardown(test_sizes_are_capped,
						make_process, remove_process),
		cmocka_unit_test(test_what_a_process_may_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
