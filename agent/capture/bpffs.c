// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/log.h"
#include "capture/bpffs.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* The source name of the BPF filesystems the agent mounts. */
#define KS_BPFFS_SOURCE "knotscope"

int ks_bpffs_ensure(const char *dir, const char *why)
{
	struct statfs fs;

	if (!statfs(dir, &fs) && fs.f_type == (typeof(fs.f_type))BPF_FS_MAGIC)
		return 0;
	if (mount(KS_BPFFS_SOURCE, dir, "bpf", 0, "mode=0700"))
		return -errno;
	ks_info("mounted a BPF filesystem at %s, %s\n", dir, why);
	return 0;
}

/*
 * Whether the filesystem mounted at dir (the last mount there) is a BPF
 * filesystem knotscope mounted.  /proc/self/mountinfo lines end with
 * "- FSTYPE SOURCE OPTIONS"; the mount point is the fifth field.
 */
static bool ks_mounted_by_knotscope(const char *dir)
{
	char line[1024], point[PATH_MAX], type[32], source[64];
	bool ours = false;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		const char *tail = strstr(line, " - ");

		if (!tail ||
		    sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1 ||
		    strcmp(point, dir) ||
		    sscanf(tail, " - %31s %63s", type, source) != 2)
			continue;
		ours = !strcmp(type, "bpf") && !strcmp(source, KS_BPFFS_SOURCE);
	}
	fclose(f);
	return ours;
}

/*
 * Whether nothing is pinned in dir: bpf_preload's iterators, which the
 * kernel puts in every new BPF filesystem, are not pins of anyone's.
 */
static bool ks_nothing_pinned(const char *dir)
{
	static const char *const kernel_own[] = { ".", "..", "maps.debug",
						  "progs.debug" };
	struct dirent *entry;
	bool empty = true;
	DIR *d = opendir(dir);

	if (!d)
		return false;
	while (empty && (entry = readdir(d))) {
		empty = false;
		for (size_t i = 0;
		     i < sizeof(kernel_own) / sizeof(kernel_own[0]); i++)
			empty |= !strcmp(entry->d_name, kernel_own[i]);
	}
	closedir(d);
	return empty;
}

void ks_bpffs_release(const char *dir)
{
	if (!ks_mounted_by_knotscope(dir) || !ks_nothing_pinned(dir))
		return;
	if (umount2(dir, UMOUNT_NOFOLLOW))
		ks_debug("cannot unmount the BPF filesystem at %s: %s\n", dir,
			 strerror(errno));
	else
		ks_debug("unmounted the BPF filesystem at %s\n", dir);
}

/* Whether an open descriptor of process pid is the map. */
static bool ks_process_holds(const char *pid, uint32_t map_id)
{
	char path[PATH_MAX], line[128];
	struct dirent *entry;
	bool holds = false;
	unsigned int id;
	DIR *fds;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/fdinfo", pid);
	fds = opendir(path);
	if (!fds)
		return false;
	while (!holds && (entry = readdir(fds))) {
		if (entry->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", pid,
			 entry->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (!holds && fgets(line, sizeof(line), f))
			holds = sscanf(line, "map_id: %u", &id) == 1 &&
				id == map_id;
		fclose(f);
	}
	closedir(fds);
	return holds;
}

pid_t ks_bpf_map_holder(uint32_t map_id)
{
	struct dirent *entry;
	pid_t holder = 0;
	char self[16];
	DIR *proc = opendir("/proc");

	if (!proc)
		return 0;
	snprintf(self, sizeof(self), "%d", getpid());
	while (!holder && (entry = readdir(proc)))
		if (entry->d_name[0] >= '1' && entry->d_name[0] <= '9' &&
		    strcmp(entry->d_name, self) &&
		    ks_process_holds(entry->d_name, map_id))
			holder = (pid_t)atoi(entry->d_name);
	closedir(proc);
	return holder;
}

static bool ks_prog_uses(uint32_t prog_id, uint32_t map_id)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info), nr_maps, *ids = NULL;
	int fd = bpf_prog_get_fd_by_id(prog_id);
	bool uses = false;

	if (fd < 0)
		return false;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || !info.nr_map_ids)
		goto cleanup;
	nr_maps = info.nr_map_ids;
	ids = calloc(nr_maps, sizeof(*ids));
	if (!ids)
		goto cleanup;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = nr_maps;
	info.map_ids = (uint64_t)(uintptr_t)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		goto cleanup;
	for (uint32_t i = 0; i < nr_maps && i < info.nr_map_ids; i++)
		uses |= ids[i] == map_id;
cleanup:
	free(ids);
	close(fd);
	return uses;
}

uint32_t ks_bpf_map_next_user_prog(uint32_t map_id, uint32_t *after,
				   const uint32_t *own, unsigned int nr_own)
{
	uint32_t prog_id = *after;

	while (!bpf_prog_get_next_id(prog_id, &prog_id)) {
		bool mine = false;

		*after = prog_id;
		for (unsigned int i = 0; i < nr_own && !mine; i++)
			mine = own[i] == prog_id;
		if (!mine && ks_prog_uses(prog_id, map_id))
			return prog_id;
	}
	return 0;
}

bool ks_bpf_prog_loaded(uint32_t prog_id)
{
	int fd = bpf_prog_get_fd_by_id(prog_id);

	if (fd < 0)
		return errno != ENOENT;
	close(fd);
	return true;
}
