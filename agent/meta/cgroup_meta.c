// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The path shapes recognised, segment by segment (ID: 64 hex digits, UID:
 * a pod UID, U_I_D: the same with '_' for '-', as systemd reserves '-'):
 *
 *   docker-ID.scope           Docker, systemd driver, also under kubepods
 *   cri-containerd-ID.scope   containerd's CRI plugin, systemd driver
 *   nerdctl-ID.scope          containerd through nerdctl, systemd driver
 *   crio-ID.scope, crio-ID    CRI-O, systemd and cgroupfs drivers
 *   libpod-ID.scope, libpod-ID  Podman, systemd and cgroupfs managers
 *   ID                        cgroupfs drivers: Docker under /docker,
 *                             containerd under /NAMESPACE, the kubelet's
 *                             pods, ECS tasks; the runtime is named only
 *                             by a parent called "docker"
 *   pod UID                   a pod under kubepods, kubepods/besteffort or
 *                             kubepods/burstable (cgroupfs driver)
 *   ...kubepods[-QOS]-podU_I_D.slice  a pod (systemd driver; kind nodes
 *                             prefix "kubelet-")
 *
 * crio-conmon-ID.scope and libpod-conmon-ID.scope hold the runtime's
 * monitor of container ID, which runs outside that container: they name
 * no container of the process.  Paths that leave the reader's cgroup
 * namespace start with "/.."; ".." is simply no container nor pod.  A
 * removed cgroup's path ends in " (deleted)".
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/proc.h"
#include "meta/cgroup_meta.h"

#define KS_STATIC_POD_UID_LEN 32
#define KS_NR(array) (sizeof(array) / sizeof((array)[0]))

struct ks_span {
	const char *text;
	size_t len;
};

static const struct {
	const char *prefix;
	enum ks_container_runtime runtime;
} ks_scope_prefixes[] = {
	{ "docker", KS_RUNTIME_DOCKER },
	{ "cri-containerd", KS_RUNTIME_CONTAINERD },
	{ "nerdctl", KS_RUNTIME_CONTAINERD },
	{ "crio", KS_RUNTIME_CRIO },
	{ "libpod", KS_RUNTIME_PODMAN },
};

/* The cgroupfs driver's parents of a pod's cgroup. */
static const char *const ks_pod_parents[] = {
	"kubepods",
	"besteffort",
	"burstable",
};

/* What the systemd driver's pod slice names end with before "-pod". */
static const char *const ks_pod_slice_prefixes[] = {
	"kubepods",
	"kubepods-besteffort",
	"kubepods-burstable",
};

static bool ks_span_is(struct ks_span span, const char *text)
{
	return span.len == strlen(text) && !memcmp(span.text, text, span.len);
}

static bool ks_span_ends_with(struct ks_span span, const char *suffix)
{
	size_t len = strlen(suffix);

	return span.len >= len &&
	       !memcmp(span.text + span.len - len, suffix, len);
}

static bool ks_is_hex(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (!(text[i] >= '0' && text[i] <= '9') &&
		    !(text[i] >= 'a' && text[i] <= 'f'))
			return false;
	}
	return true;
}

static enum ks_container_runtime ks_runtime_of_prefix(struct ks_span prefix)
{
	for (size_t i = 0; i < KS_NR(ks_scope_prefixes); i++) {
		if (ks_span_is(prefix, ks_scope_prefixes[i].prefix))
			return ks_scope_prefixes[i].runtime;
	}
	return KS_RUNTIME_NONE;
}

/*
 * The runtime of the container a segment names, after writing its id to
 * id; KS_RUNTIME_NONE, leaving id alone, when the segment names none.
 */
static enum ks_container_runtime
ks_container_segment(struct ks_span seg, struct ks_span parent,
		     char id[KS_CONTAINER_ID_LEN + 1])
{
	enum ks_container_runtime runtime;
	struct ks_span prefix = { seg.text, 0 };

	if (ks_span_ends_with(seg, ".scope"))
		seg.len -= strlen(".scope");
	if (seg.len < KS_CONTAINER_ID_LEN ||
	    !ks_is_hex(seg.text + seg.len - KS_CONTAINER_ID_LEN,
		       KS_CONTAINER_ID_LEN))
		return KS_RUNTIME_NONE;

	if (seg.len == KS_CONTAINER_ID_LEN) {
		runtime = ks_span_is(parent, "docker") ? KS_RUNTIME_DOCKER :
							 KS_RUNTIME_UNKNOWN;
	} else {
		prefix.len = seg.len - KS_CONTAINER_ID_LEN - 1;
		if (seg.text[prefix.len] != '-')
			return KS_RUNTIME_NONE;
		runtime = ks_runtime_of_prefix(prefix);
		if (runtime == KS_RUNTIME_NONE)
			return KS_RUNTIME_NONE;
	}
	memcpy(id, seg.text + seg.len - KS_CONTAINER_ID_LEN,
	       KS_CONTAINER_ID_LEN);
	id[KS_CONTAINER_ID_LEN] = '\0';
	return runtime;
}

/*
 * A pod UID as written in a cgroup name, with sep where the UUID has its
 * dashes, or a static pod's 32 hex digits (the kubelet's hash of the
 * manifest).  Copies it to uid with dashes only when it is one.
 */
static bool ks_parse_pod_uid(struct ks_span text, char sep,
			     char uid[KS_POD_UID_MAX + 1])
{
	if (text.len == KS_STATIC_POD_UID_LEN) {
		if (!ks_is_hex(text.text, text.len))
			return false;
	} else if (text.len == KS_POD_UID_MAX) {
		for (size_t i = 0; i < text.len; i++) {
			bool dash = i == 8 || i == 13 || i == 18 || i == 23;

			if (dash ? text.text[i] != sep :
				   !ks_is_hex(text.text + i, 1))
				return false;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < text.len; i++)
		uid[i] = text.text[i] == sep ? '-' : text.text[i];
	uid[text.len] = '\0';
	return true;
}

/* Whether span is one of names or, as_suffix, ends with one of them. */
static bool ks_span_in(struct ks_span span, const char *const *names,
		       size_t nr_names, bool as_suffix)
{
	for (size_t i = 0; i < nr_names; i++) {
		if (as_suffix ? ks_span_ends_with(span, names[i]) :
				ks_span_is(span, names[i]))
			return true;
	}
	return false;
}

/* "pod<UID>" below a QoS class cgroup (the cgroupfs driver). */
static bool ks_cgroupfs_pod_segment(struct ks_span seg, struct ks_span parent,
				    char uid[KS_POD_UID_MAX + 1])
{
	struct ks_span rest = { seg.text + 3, seg.len - 3 };

	return seg.len > 3 && !memcmp(seg.text, "pod", 3) &&
	       ks_span_in(parent, ks_pod_parents, KS_NR(ks_pod_parents),
			  false) &&
	       ks_parse_pod_uid(rest, '-', uid);
}

/*
 * "...kubepods[-QOS]-pod<U_I_D>.slice" (the systemd driver): whatever the
 * kubelet's cgroup root puts in front, such as kind's "kubelet-".
 */
static bool ks_systemd_pod_segment(struct ks_span seg,
				   char uid[KS_POD_UID_MAX + 1])
{
	static const size_t uid_lens[] = { KS_POD_UID_MAX,
					   KS_STATIC_POD_UID_LEN };

	if (!ks_span_ends_with(seg, ".slice"))
		return false;
	seg.len -= strlen(".slice");
	for (size_t i = 0; i < KS_NR(uid_lens); i++) {
		struct ks_span head = { seg.text, 0 }, uid_text;

		if (seg.len <= uid_lens[i])
			continue;
		head.len = seg.len - uid_lens[i];
		uid_text.text = seg.text + head.len;
		uid_text.len = uid_lens[i];
		if (!ks_span_ends_with(head, "-pod"))
			continue;
		head.len -= strlen("-pod");
		if (ks_span_in(head, ks_pod_slice_prefixes,
			       KS_NR(ks_pod_slice_prefixes), true) &&
		    ks_parse_pod_uid(uid_text, '_', uid))
			return true;
	}
	return false;
}

/* Walks one path from the root down: the innermost finds win. */
static void ks_parse_path(struct ks_span path, struct ks_cgroup_meta *out)
{
	struct ks_span parent = { path.text, 0 };
	const char *end, *at = path.text;

	memset(out, 0, sizeof(*out));
	if (ks_span_ends_with(path, " (deleted)"))
		path.len -= strlen(" (deleted)");
	end = path.text + path.len;
	while (at < end) {
		const char *slash = memchr(at, '/', (size_t)(end - at));
		struct ks_span seg = { at,
				       (size_t)((slash ? slash : end) - at) };

		if (seg.len) {
			enum ks_container_runtime runtime =
				ks_container_segment(seg, parent,
						     out->container_id);

			if (runtime != KS_RUNTIME_NONE)
				out->runtime = runtime;
			if (!ks_cgroupfs_pod_segment(seg, parent, out->pod_uid))
				ks_systemd_pod_segment(seg, out->pod_uid);
			parent = seg;
		}
		at += seg.len + 1;
	}
}

/* How much a line told: a container outweighs a pod alone. */
static int ks_meta_weight(const struct ks_cgroup_meta *meta)
{
	return (meta->container_id[0] ? 2 : 0) + (meta->pod_uid[0] ? 1 : 0);
}

/* The path of a "HIERARCHY-ID:CONTROLLERS:PATH" line, if it is one. */
static bool ks_cgroup_line_path(struct ks_span line, struct ks_span *path)
{
	const char *end = line.text + line.len;
	const char *colon = memchr(line.text, ':', line.len);

	if (!colon || colon == line.text)
		return false;
	for (const char *p = line.text; p < colon; p++) {
		if (*p < '0' || *p > '9')
			return false;
	}
	colon = memchr(colon + 1, ':', (size_t)(end - colon - 1));
	if (!colon || colon + 1 == end || colon[1] != '/')
		return false;
	path->text = colon + 1;
	path->len = (size_t)(end - path->text);
	return true;
}

void ks_cgroup_meta_parse(const char *text, size_t len,
			  struct ks_cgroup_meta *out)
{
	const char *end = text + len, *at = text;

	memset(out, 0, sizeof(*out));
	while (at < end) {
		const char *newline = memchr(at, '\n', (size_t)(end - at));
		struct ks_span line = { at, (size_t)((newline ? newline : end) -
						     at) };
		struct ks_cgroup_meta found;
		struct ks_span path;

		if (ks_cgroup_line_path(line, &path)) {
			ks_parse_path(path, &found);
			if (ks_meta_weight(&found) > ks_meta_weight(out))
				*out = found;
		}
		at += line.len + 1;
	}
}

int ks_cgroup_meta_read(uint32_t pid, struct ks_cgroup_meta *out)
{
	char path[128], *text = NULL;
	size_t size = 0;
	ssize_t len;
	int err = 0;
	FILE *f;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/%u/cgroup", ks_proc_root(), pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* The whole file: cgroup paths hold no NUL. */
	len = getdelim(&text, &size, '\0', f);
	if (len > 0)
		ks_cgroup_meta_parse(text, (size_t)len, out);
	else if (ferror(f))
		err = -EIO;
	free(text);
	fclose(f);
	return err;
}

const char *ks_container_runtime_name(enum ks_container_runtime runtime)
{
	switch (runtime) {
	case KS_RUNTIME_DOCKER:
		return "docker";
	case KS_RUNTIME_CONTAINERD:
		return "containerd";
	case KS_RUNTIME_CRIO:
		return "cri-o";
	case KS_RUNTIME_PODMAN:
		return "podman";
	case KS_RUNTIME_NONE:
	case KS_RUNTIME_UNKNOWN:
		break;
	}
	return NULL;
}
