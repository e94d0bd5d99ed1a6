// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "capture/bpf_pins.h"
#include "capture/bpffs.h"

#define KS_BPF_FS "/sys/fs/bpf"

/*
 * The pid of a live agent whose maps are pinned in dir, or 0: an agent
 * holds its maps open while it runs, leftover pins hold nothing.
 */
static pid_t ks_pins_owner(const char *dir)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	char path[PATH_MAX];
	pid_t owner = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/ks_stats", dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		owner = ks_bpf_map_holder(info.id);
	close(fd);
	return owner;
}

/*
 * A crashed run leaves its pins behind, holding maps and programs that no
 * longer do anything: remove them, so this run's take their names.  The
 * pins of an agent still running (a DaemonSet's, while this is a debug
 * run) are not this run's to take: -EBUSY.
 */
static int ks_remove_stale(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *entry;
	DIR *d = opendir(dir);
	pid_t owner;
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	owner = ks_pins_owner(dir);
	if (owner) {
		ks_err("--pin: %s holds the pins of the agent running as pid "
		       "%d: left alone\n",
		       dir, (int)owner);
		closedir(d);
		return -EBUSY;
	}
	ks_debug("replacing the pins an earlier run left in %s\n", dir);
	while ((entry = readdir(d))) {
		if (entry->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		if (unlink(path) && !err)
			err = -errno;
	}
	closedir(d);
	if (!err && rmdir(dir))
		err = -errno;
	return err;
}

/* "ks_stats" stays; libbpf's ".rodata" and "obj_name.rodata" become "rodata". */
static void ks_pin_path(const char *dir, const char *name, char *path,
			size_t size)
{
	const char *dot = strchr(name, '.');

	snprintf(path, size, "%s/%s", dir, dot ? dot + 1 : name);
}

int ks_bpf_pins_create(struct bpf_object *obj, const char *dir)
{
	char path[PATH_MAX];
	struct bpf_program *prog;
	struct bpf_map *map;
	int err;

	err = ks_bpffs_ensure(KS_BPF_FS, "for --pin");
	if (err) {
		ks_err("--pin: cannot mount the BPF filesystem at %s: %s\n",
		       KS_BPF_FS, strerror(-err));
		return err;
	}
	err = ks_remove_stale(dir);
	if (err == -EBUSY)
		return err;
	if (err) {
		ks_err("--pin: cannot remove the old pins in %s: %s\n", dir,
		       strerror(-err));
		return err;
	}
	if (mkdir(dir, 0700)) {
		err = -errno;
		ks_err("--pin: cannot create %s: %s\n", dir, strerror(-err));
		return err;
	}
	bpf_object__for_each_map(map, obj)
	{
		ks_pin_path(dir, bpf_map__name(map), path, sizeof(path));
		err = bpf_map__pin(map, path);
		if (err)
			goto fail;
	}
	bpf_object__for_each_program(prog, obj) {
		if (bpf_program__fd(prog) < 0)
			continue;
		ks_pin_path(dir, bpf_program__name(prog), path, sizeof(path));
		err = bpf_program__pin(prog, path);
		if (err)
			goto fail;
	}
	ks_debug("maps and programs pinned in %s\n", dir);
	return 0;
fail:
	ks_err("--pin: cannot pin %s: %s\n", path, strerror(-err));
	ks_bpf_pins_remove(obj, dir);
	return err;
}

void ks_bpf_pins_remove(struct bpf_object *obj, const char *dir)
{
	char path[PATH_MAX];
	struct bpf_program *prog;
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj)
	{
		ks_pin_path(dir, bpf_map__name(map), path, sizeof(path));
		unlink(path);
	}
	bpf_object__for_each_program(prog, obj) {
		ks_pin_path(dir, bpf_program__name(prog), path, sizeof(path));
		unlink(path);
	}
	rmdir(dir);
	ks_bpffs_release(KS_BPF_FS);
}
