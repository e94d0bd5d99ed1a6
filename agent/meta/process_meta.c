// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/printable.h"
#include "base/proc.h"
#include "meta/cgroup_meta.h"
#include "meta/pod_logs.h"
#include "base/small_file.h"
#include "meta/process_meta.h"
#include "otlp/otlp_config.h"
#include "otlp/otlp_resource.h"

/* More than any real environment needs to reach the OTEL_ variables. */
#define KS_ENVIRON_MAX (256 * 1024)

const char *ks_environ_get(const char *block, size_t len, const char *name)
{
	size_t name_len = strlen(name);
	const char *end = block + len;

	for (const char *p = block; p < end; p += strnlen(p, end - p) + 1) {
		if ((size_t)(end - p) > name_len &&
		    !strncmp(p, name, name_len) && p[name_len] == '=')
			return p + name_len + 1;
	}
	return NULL;
}

static char *ks_read_environ(uint32_t tgid, size_t *len)
{
	char path[64];
	char *block = malloc(KS_ENVIRON_MAX);
	int read;

	*len = 0;
	if (!block)
		return NULL;
	snprintf(path, sizeof(path), "%s/%u/environ", ks_proc_root(), tgid);
	/* A NUL after the last entry, even a cut one, bounds every search. */
	read = ks_read_small_file(path, block, KS_ENVIRON_MAX);
	if (read < 0)
		block[0] = '\0';
	else
		*len = (size_t)read;
	return block;
}

/*
 * What a process may say about itself, from its environment: it is not
 * trusted.  Namespaces of what the agent observes itself are not its to
 * set, and values are capped so a process cannot make its resource, which
 * goes with every span and metric about it, large.
 */
#define KS_SELF_DESCRIBED_TEXT_MAX 4096
#define KS_SELF_DESCRIBED_MAX_ATTRS 32
#define KS_SELF_DESCRIBED_VALUE_MAX 256

static const char *const ks_observed_namespaces[] = {
	"container.", "host.",	    "k8s.",	  "os.",
	"process.",   "telemetry.", "knotscope.",
};

bool ks_process_may_set(const char *key, const char *value)
{
	for (size_t i = 0; i < sizeof(ks_observed_namespaces) /
				       sizeof(ks_observed_namespaces[0]);
	     i++)
		if (!strncmp(key, ks_observed_namespaces[i],
			     strlen(ks_observed_namespaces[i])))
			return false;
	return strlen(value) <= KS_SELF_DESCRIBED_VALUE_MAX &&
	       ks_is_printable(key) && ks_is_printable(value);
}

static void ks_add_self_described(uint32_t tgid, struct ks_otlp_attrs *attrs)
{
	struct ks_otlp_pairs pairs = { 0 };
	char err[KS_OTLP_ERR_SIZE];
	const char *service, *resource;
	unsigned int taken = 0;
	size_t len;
	char *block = ks_read_environ(tgid, &len);

	if (!block)
		return;
	service = ks_environ_get(block, len, "OTEL_SERVICE_NAME");
	resource = ks_environ_get(block, len, "OTEL_RESOURCE_ATTRIBUTES");
	/* OTEL_SERVICE_NAME wins over service.name in the attributes. */
	if (service && *service && ks_process_may_set("service.name", service))
		ks_otlp_attrs_str(attrs, "service.name", service);
	/* Malformed or too long is the process's problem: ignored whole. */
	if (resource && strlen(resource) <= KS_SELF_DESCRIBED_TEXT_MAX &&
	    !ks_otlp_pairs_parse("OTEL_RESOURCE_ATTRIBUTES", resource, &pairs,
				 err, sizeof(err)))
		for (size_t i = 0;
		     i < pairs.nr && taken < KS_SELF_DESCRIBED_MAX_ATTRS; i++) {
			if (!ks_process_may_set(pairs.items[i].name,
						pairs.items[i].value))
				continue;
			ks_otlp_attrs_str(attrs, pairs.items[i].name,
					  pairs.items[i].value);
			taken++;
		}
	ks_otlp_pairs_free(&pairs);
	free(block);
}

/* The executable's path, or -1 when it cannot be read. */
static int ks_read_exe(uint32_t tgid, char *path, size_t size)
{
	char link[64];
	ssize_t len;

	snprintf(link, sizeof(link), "%s/%u/exe", ks_proc_root(), tgid);
	len = readlink(link, path, size - 1);
	if (len <= 0)
		return -1;
	path[len] = '\0';
	return 0;
}

static void ks_add_executable(uint32_t tgid, const char *comm,
			      struct ks_otlp_attrs *attrs)
{
	char path[PATH_MAX];

	if (ks_read_exe(tgid, path, sizeof(path))) {
		ks_otlp_attrs_str(attrs, "process.executable.name", comm);
		return;
	}
	ks_otlp_attrs_str(attrs, "process.executable.name", basename(path));
	ks_otlp_attrs_str(attrs, "process.executable.path", path);
}

/* service.name when the process names none: its executable's name. */
static void ks_add_service_fallback(uint32_t tgid, const char *comm,
				    struct ks_otlp_attrs *attrs)
{
	char path[PATH_MAX];

	ks_otlp_attrs_str(
		attrs, "service.name",
		ks_read_exe(tgid, path, sizeof(path)) ? comm : basename(path));
}

static void ks_add_owner(uint32_t tgid, struct ks_otlp_attrs *attrs)
{
	char path[64], status[4096], line[32], buf[1024];
	struct passwd pw, *found = NULL;
	const char *field;
	unsigned long uid;

	snprintf(path, sizeof(path), "%s/%u/status", ks_proc_root(), tgid);
	if (ks_read_small_file(path, status, sizeof(status)) < 0)
		return;
	field = ks_status_field(status, "Uid");
	if (!field || sscanf(field, "%lu", &uid) != 1)
		return;
	if (!getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &found) && found) {
		ks_otlp_attrs_str(attrs, "process.owner", pw.pw_name);
	} else {
		snprintf(line, sizeof(line), "%lu", uid);
		ks_otlp_attrs_str(attrs, "process.owner", line);
	}
}

static void ks_add_container(uint32_t tgid, struct ks_otlp_attrs *attrs)
{
	struct ks_cgroup_meta meta;
	struct ks_pod_names names;
	const char *runtime;

	if (ks_cgroup_meta_read(tgid, &meta))
		return;
	if (meta.container_id[0])
		ks_otlp_attrs_str(attrs, "container.id", meta.container_id);
	runtime = ks_container_runtime_name(meta.runtime);
	if (runtime)
		ks_otlp_attrs_str(attrs, "container.runtime.name", runtime);
	if (!meta.pod_uid[0])
		return;
	ks_otlp_attrs_str(attrs, "k8s.pod.uid", meta.pod_uid);
	if (!ks_pod_names_lookup(KS_HOST_POD_LOGS, meta.pod_uid, &names)) {
		ks_otlp_attrs_str(attrs, "k8s.pod.name", names.pod_name);
		ks_otlp_attrs_str(attrs, "k8s.namespace.name",
				  names.namespace_name);
	}
}

char *ks_process_service_name(uint32_t tgid, const char *comm)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	char *name = NULL;

	/* Where service.name comes from, in the same order of precedence. */
	ks_add_self_described(tgid, &attrs);
	ks_add_service_fallback(tgid, comm, &attrs);
	for (size_t i = 0; i < attrs.nr && !name; i++)
		if (!strcmp(attrs.items[i]->key, "service.name"))
			name = strdup(attrs.items[i]->value->string_value);
	ks_otlp_attrs_release(&attrs);
	return name;
}

void ks_process_meta_add(uint32_t tgid, const char *comm,
			 const struct ks_host_meta *host,
			 struct ks_otlp_attrs *attrs)
{
	/* What the agent observed first: the first of a key wins. */
	ks_add_executable(tgid, comm, attrs);
	ks_otlp_attrs_int(attrs, "process.pid", tgid);
	ks_add_owner(tgid, attrs);
	ks_add_container(tgid, attrs);
	ks_host_meta_add(host, attrs);
	ks_otlp_attrs_add_sdk(attrs);
	ks_add_self_described(tgid, attrs);
	ks_add_service_fallback(tgid, comm, attrs);
}
