// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "base/log.h"
#include "capture/bpf_pins.h"

#define KS_BPF_FS "/sys/fs/bpf"

/* Pins need the BPF filesystem; a bare machine may not have it mounted. */
static int ks_ensure_bpf_fs(void)
{
	struct statfs fs;

	if (!statfs(KS_BPF_FS, &fs) && fs.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", KS_BPF_FS, "bpf", 0, "mode=0700"))
		return -errno;
	ks_info("mounted the BPF filesystem at %s for --pin\n", KS_BPF_FS);
	return 0;
}

/*
 * A crashed run leaves its pins behind, holding maps and programs that no
 * longer do anything: remove them, so this run's take their names.
 */
static int ks_remove_stale(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *entry;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
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

	err = ks_ensure_bpf_fs();
	if (err) {
		ks_err("--pin: cannot mount the BPF filesystem at %s: %s\n",
		       KS_BPF_FS, strerror(-err));
		return err;
	}
	err = ks_remove_stale(dir);
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
}
