// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "base/proc.h"
#include "meta/cgroup_meta.h"
#include "meta/k8s_cache.h"
#include "meta/pod_logs.h"
#include "base/small_file.h"
#include "meta/process_meta.h"
#include "meta/self_described.h"
#include "otlp/otlp_resource.h"

/* More than any real environment needs to reach the OTEL_ variables. */
#define KS_ENVIRON_MAX (256 * 1024)

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

static void ks_add_attr(void *ctx, const char *key, const char *value)
{
	ks_otlp_attrs_str(ctx, key, value);
}

static void ks_add_self_described(uint32_t tgid, struct ks_otlp_attrs *attrs)
{
	size_t len;
	char *block = ks_read_environ(tgid, &len);

	if (!block)
		return;
	ks_self_described(block, len, ks_add_attr, attrs);
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

/*
 * Those parts of what the Kubernetes API says of the process's pod, when
 * pods is given and knows it.  Whether that was all there is to know.
 */
static bool ks_add_pod(struct ks_k8s_cache *pods,
		       const struct ks_cgroup_meta *cgroup,
		       enum ks_k8s_part parts, struct ks_otlp_attrs *attrs,
		       bool *from_api)
{
	enum ks_k8s_found found;

	*from_api = false;
	if (!pods || !cgroup->pod_uid[0])
		return true;
	found = ks_k8s_cache_add_attrs(pods, cgroup->pod_uid,
				       cgroup->container_id, parts, attrs);
	*from_api = found != KS_K8S_UNKNOWN;
	return found == KS_K8S_COMPLETE;
}

/* Container and pod from the cgroup path and the pod log directories. */
static void ks_add_container(const struct ks_cgroup_meta *meta,
			     bool names_known, struct ks_otlp_attrs *attrs)
{
	struct ks_pod_names names;
	const char *runtime;

	if (meta->container_id[0])
		ks_otlp_attrs_str(attrs, "container.id", meta->container_id);
	runtime = ks_container_runtime_name(meta->runtime);
	if (runtime)
		ks_otlp_attrs_str(attrs, "container.runtime.name", runtime);
	if (!meta->pod_uid[0])
		return;
	ks_otlp_attrs_str(attrs, "k8s.pod.uid", meta->pod_uid);
	if (!names_known &&
	    !ks_pod_names_lookup(KS_HOST_POD_LOGS, meta->pod_uid, &names)) {
		ks_otlp_attrs_str(attrs, "k8s.pod.name", names.pod_name);
		ks_otlp_attrs_str(attrs, "k8s.namespace.name",
				  names.namespace_name);
	}
}

int ks_service_instance_id(const struct ks_host_meta *host, uint32_t pid,
			   uint64_t start_ticks, char id[KS_UUID_TEXT_SIZE])
{
	/* The semantic conventions' namespace for generated instance ids. */
	static const uuid_t namespace = { 0x4d, 0x63, 0x00, 0x9a, 0x8d, 0x0f,
					  0x11, 0xee, 0xaa, 0xd7, 0x4c, 0x79,
					  0x6e, 0xd8, 0xe3, 0x20 };
	struct ks_proc_task task;
	char name[96];
	uuid_t uuid;
	int len;

	if (!start_ticks) {
		if (ks_proc_read_task(pid, pid, &task))
			return -1;
		start_ticks = task.start_ticks;
	}
	len = snprintf(name, sizeof(name), "%s/%u/%llu", host->boot_id, pid,
		       (unsigned long long)start_ticks);
	uuid_generate_sha1(uuid, namespace, name, (size_t)len);
	uuid_unparse_lower(uuid, id);
	return 0;
}

static void ks_add_instance_id(uint32_t tgid, uint64_t start_ticks,
			       const struct ks_host_meta *host,
			       struct ks_otlp_attrs *attrs)
{
	char id[KS_UUID_TEXT_SIZE];

	if (!ks_service_instance_id(host, tgid, start_ticks, id))
		ks_otlp_attrs_str(attrs, "service.instance.id", id);
}

const char *ks_attrs_text_find(char *const *pairs, size_t nr, const char *key)
{
	for (size_t i = 0; i + 1 < nr; i += 2)
		if (!strcmp(pairs[i], key))
			return pairs[i + 1];
	return NULL;
}

void ks_attrs_text_free(char **pairs, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(pairs[i]);
	free(pairs);
}

int ks_attrs_as_text(const struct ks_otlp_attrs *attrs, char ***pairs,
		     size_t *nr)
{
	char **text = calloc(2 * attrs->nr + 1, sizeof(*text));
	size_t n = 0;

	if (!text)
		return -ENOMEM;
	for (size_t i = 0; i < attrs->nr; i++) {
		const OtlpKeyValue *kv = attrs->items[i];
		bool seen = false;
		int ok;

		/* The first of a key wins, as in the resource. */
		for (size_t j = 0; j < n && !seen; j += 2)
			seen = !strcmp(text[j], kv->key);
		if (seen)
			continue;
		text[n++] = strdup(kv->key);
		if (kv->value->value_case ==
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE)
			ok = asprintf(&text[n], "%lld",
				      (long long)kv->value->int_value) >= 0;
		else
			ok = (text[n] = strdup(kv->value->string_value ?:
						       "")) != NULL;
		if (!ok)
			text[n] = NULL;
		if (!text[n - 1] || !text[n++]) {
			ks_attrs_text_free(text, n);
			return -ENOMEM;
		}
	}
	*pairs = text;
	*nr = n;
	return 0;
}

bool ks_process_meta_add(uint32_t tgid, const char *comm, uint64_t start_ticks,
			 const struct ks_host_meta *host,
			 struct ks_k8s_cache *pods, struct ks_otlp_attrs *attrs)
{
	struct ks_cgroup_meta cgroup;
	bool settled, from_api, again;

	/* What the agent observed first: the first of a key wins. */
	ks_add_executable(tgid, comm, attrs);
	ks_otlp_attrs_int(attrs, "process.pid", tgid);
	ks_add_owner(tgid, attrs);
	/* A process that has exited leaves it all empty: no pod. */
	ks_cgroup_meta_read(tgid, &cgroup);
	settled = ks_add_pod(pods, &cgroup, KS_K8S_OBSERVED, attrs, &from_api);
	ks_add_container(&cgroup, from_api, attrs);
	ks_host_meta_add(host, attrs);
	ks_otlp_attrs_add_sdk(attrs);
	ks_add_self_described(tgid, attrs);
	/*
	 * Then what its pod says and its workload implies (the process's
	 * own OTEL_SERVICE_NAME wins: it is what its SDK would say), and
	 * last what the agent makes up: its executable's name and a
	 * derived instance id.
	 */
	ks_add_pod(pods, &cgroup, KS_K8S_SERVICE, attrs, &again);
	ks_add_service_fallback(tgid, comm, attrs);
	ks_add_instance_id(tgid, start_ticks, host, attrs);
	return settled;
}
