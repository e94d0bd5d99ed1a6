// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/decimal.h"
#include "base/memory.h"
#include "base/small_file.h"

/* v1 writes a huge page-aligned number for "no limit". */
#define KS_NO_LIMIT_ABOVE (1ull << 62)

/*
 * Opened once, and read again from its start each time: the agent reads it
 * every tick, and opening a /proc file costs more than reading it.
 */
static pthread_once_t statm_once = PTHREAD_ONCE_INIT;
static int statm_fd = -1;

static void ks_open_statm(void)
{
	statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
}

uint64_t ks_memory_resident(void)
{
	char text[128];
	unsigned long long size, resident;
	ssize_t len;

	pthread_once(&statm_once, ks_open_statm);
	len = statm_fd < 0 ? -1 : pread(statm_fd, text, sizeof(text) - 1, 0);
	if (len <= 0)
		return 0;
	text[len] = '\0';
	if (sscanf(text, "%llu %llu", &size, &resident) != 2)
		return 0;
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

uint64_t ks_memory_peak(void)
{
	unsigned long long kib;
	const char *field;
	char text[4096];

	if (ks_read_small_file("/proc/self/status", text, sizeof(text)) < 0)
		return 0;
	field = ks_status_field(text, "VmHWM");
	if (!field || sscanf(field, "%llu", &kib) != 1)
		return 0;
	return (uint64_t)kib * 1024;
}

/* A limit file's number; 0 for "max", a huge one, or none. */
static uint64_t ks_limit_file(const char *path)
{
	unsigned long long value;
	char text[32];

	if (ks_read_first_line(path, text, sizeof(text)) ||
	    ks_parse_decimal(text, &value, NULL) || value >= KS_NO_LIMIT_ABOVE)
		return 0;
	return value;
}

/* The smallest limit in dir (under root) and the directories above it. */
static uint64_t ks_smallest_up(const char *root, const char *dir,
			       const char *file)
{
	char path[2 * PATH_MAX], walk[PATH_MAX];
	uint64_t smallest = 0;

	/* "/a/b", then "/a", then "": the hierarchy's root itself. */
	snprintf(walk, sizeof(walk), "%s", strcmp(dir, "/") ? dir : "");
	for (;;) {
		char *slash = strrchr(walk, '/');
		uint64_t limit;

		snprintf(path, sizeof(path), "%s%s/%s", root, walk, file);
		limit = ks_limit_file(path);
		if (limit && (!smallest || limit < smallest))
			smallest = limit;
		if (!slash)
			return smallest;
		*slash = '\0';
	}
}

/* Whether a comma-separated controller list names memory. */
static bool ks_lists_memory(const char *list, size_t len)
{
	for (const char *at = list; at < list + len;) {
		size_t item = strcspn(at, ",:");

		if (item == 6 && !strncmp(at, "memory", 6))
			return true;
		at += item + 1;
	}
	return false;
}

uint64_t ks_memory_cgroup_limit_in(const char *cgroup_text, const char *fs_root)
{
	char root[PATH_MAX], dir[PATH_MAX];
	const char *line = cgroup_text;
	uint64_t v1 = 0, v2 = 0;

	/* Lines of "hierarchy:controllers:path"; v2's is "0::path". */
	while (*line) {
		const char *end = strchrnul(line, '\n');
		const char *controllers =
			memchr(line, ':', (size_t)(end - line));
		const char *path =
			controllers ? memchr(controllers + 1, ':',
					     (size_t)(end - controllers - 1)) :
				      NULL;

		if (path) {
			snprintf(dir, sizeof(dir), "%.*s",
				 (int)(end - path - 1), path + 1);
			if (path == controllers + 1 &&
			    !strncmp(line, "0:", 2)) {
				v2 = ks_smallest_up(fs_root, dir, "memory.max");
			} else if (ks_lists_memory(
					   controllers + 1,
					   (size_t)(path - controllers - 1))) {
				snprintf(root, sizeof(root), "%s/memory",
					 fs_root);
				v1 = ks_smallest_up(root, dir,
						    "memory.limit_in_bytes");
			}
		}
		line = *end ? end + 1 : end;
	}
	if (v1 && (!v2 || v1 < v2))
		return v1;
	return v2;
}

uint64_t ks_memory_cgroup_limit(void)
{
	char text[4096];

	if (ks_read_small_file("/proc/self/cgroup", text, sizeof(text)) < 0)
		return 0;
	return ks_memory_cgroup_limit_in(text, "/sys/fs/cgroup");
}
