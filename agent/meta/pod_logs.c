// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "meta/pod_logs.h"

bool ks_pod_names_from_log_dir(const char *dir_name, const char *pod_uid,
			       struct ks_pod_names *out)
{
	size_t len = strlen(dir_name), uid_len = strlen(pod_uid);
	size_t namespace_len, name_len;
	const char *split;

	/* NAMESPACE_NAME_UID: the UID ends it, after a '_'. */
	if (!uid_len || len < uid_len + 4 ||
	    strcmp(dir_name + len - uid_len, pod_uid) ||
	    dir_name[len - uid_len - 1] != '_')
		return false;
	len -= uid_len + 1;

	split = memchr(dir_name, '_', len);
	if (!split)
		return false;
	namespace_len = (size_t)(split - dir_name);
	name_len = len - namespace_len - 1;
	if (!namespace_len || namespace_len > KS_POD_NAMESPACE_MAX ||
	    !name_len || name_len > KS_POD_NAME_MAX ||
	    memchr(split + 1, '_', name_len))
		return false;

	memcpy(out->namespace_name, dir_name, namespace_len);
	out->namespace_name[namespace_len] = '\0';
	memcpy(out->pod_name, split + 1, name_len);
	out->pod_name[name_len] = '\0';
	return true;
}

int ks_pod_names_lookup(const char *logs_dir, const char *pod_uid,
			struct ks_pod_names *out)
{
	DIR *dir = opendir(logs_dir);
	struct dirent *entry;
	int err = -ENOENT;

	if (!dir)
		return -errno;
	/* A listing per pod the agent meets: callers keep the answer. */
	errno = 0;
	while ((entry = readdir(dir))) {
		if (ks_pod_names_from_log_dir(entry->d_name, pod_uid, out)) {
			err = 0;
			break;
		}
	}
	if (!entry && errno)
		err = -errno;
	closedir(dir);
	return err;
}
