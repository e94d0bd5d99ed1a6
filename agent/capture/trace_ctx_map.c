// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "capture/bpffs.h"
#include "capture/trace_ctx_map.h"
#include "knotscope_abi.h"

/* The directory every OpenTelemetry eBPF component pins shared maps in. */
#define KS_OTEL_PIN_DIR "otel"

/* Whether an existing map is traces_ctx_v1 as its readers define it. */
static int ks_check_layout(int fd, uint32_t *id)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	if (info.type != BPF_MAP_TYPE_LRU_HASH ||
	    info.key_size != sizeof(uint64_t) ||
	    info.value_size != sizeof(struct ks_trace_ctx))
		return -EINVAL;
	return 0;
}

/* Another agent's program, or a process other than this one, uses it. */
static bool ks_used_elsewhere(const struct ks_trace_ctx_map *map)
{
	uint32_t from_first = 0;

	return ks_bpf_map_next_user_prog(map->id, &from_first, map->own_progs,
					 map->nr_own_progs) ||
	       ks_bpf_map_holder(map->id);
}

/* Creates and pins it; -EEXIST when someone else pinned one first. */
static int ks_create(struct ks_trace_ctx_map *map)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, KS_TRACES_CTX_NAME,
				sizeof(uint64_t), sizeof(struct ks_trace_ctx),
				KS_TRACES_CTX_MAX_ENTRIES, NULL);
	int err;

	if (fd < 0)
		return fd;
	if (bpf_obj_pin(fd, map->path)) {
		err = -errno;
		close(fd);
		return err;
	}
	map->fd = fd;
	map->created = true;
	return ks_check_layout(fd, &map->id);
}

static int ks_find_or_create(struct ks_trace_ctx_map *map)
{
	int err;

	/* Twice: another agent may pin it between our look and our pin. */
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = bpf_obj_get(map->path);

		if (fd >= 0) {
			err = ks_check_layout(fd, &map->id);
			if (err) {
				close(fd);
				return err;
			}
			map->fd = fd;
			/*
			 * Nobody's: its creator was killed before it could
			 * unpin it.  This run takes it over, and its end.
			 */
			map->created = !ks_used_elsewhere(map);
			return 0;
		}
		if (errno != ENOENT)
			return -errno;
		err = ks_create(map);
		if (err != -EEXIST)
			return err;
	}
	return -EEXIST;
}

int ks_trace_ctx_map_open(struct ks_trace_ctx_map *map, const char *bpffs)
{
	char dir[PATH_MAX];
	int err;

	memset(map, 0, sizeof(*map));
	map->fd = -1;
	if (snprintf(dir, sizeof(dir), "%s/%s", bpffs, KS_OTEL_PIN_DIR) >=
		    (int)sizeof(dir) - (int)sizeof("/" KS_TRACES_CTX_NAME) ||
	    snprintf(map->path, sizeof(map->path), "%s/%s", dir,
		     KS_TRACES_CTX_NAME) < 0)
		return -ENAMETOOLONG;
	err = ks_bpffs_ensure(bpffs, "for traces_ctx_v1");
	if (err) {
		ks_warn("no BPF filesystem at %s (%s): spans are not shared "
			"with profilers\n",
			bpffs, strerror(-err));
		return err;
	}
	/* What OpenTelemetry's eBPF instrumentation creates it with. */
	if (mkdir(dir, 01700) && errno != EEXIST) {
		err = -errno;
		ks_warn("cannot create %s (%s): spans are not shared with "
			"profilers\n",
			dir, strerror(-err));
		return err;
	}
	err = ks_find_or_create(map);
	if (err == -EINVAL)
		ks_warn("%s has another layout than traces_ctx_v1's: left "
			"alone, spans are not shared with profilers\n",
			map->path);
	else if (err)
		ks_warn("cannot use %s (%s): spans are not shared with "
			"profilers\n",
			map->path, strerror(-err));
	if (err && map->fd >= 0) {
		close(map->fd);
		map->fd = -1;
	}
	if (!err)
		ks_debug("%s %s (map id %u)\n",
			 map->created ? "in charge of" : "reusing", map->path,
			 map->id);
	snprintf(map->bpffs, sizeof(map->bpffs), "%s", bpffs);
	return err;
}

void ks_trace_ctx_map_close(struct ks_trace_ctx_map *map)
{
	char *slash;

	if (map->fd < 0)
		return;
	if (map->created && !ks_used_elsewhere(map)) {
		unlink(map->path);
		/* The directory too, if nothing else is pinned there. */
		slash = strrchr(map->path, '/');
		*slash = '\0';
		rmdir(map->path);
		ks_bpffs_release(map->bpffs);
	}
	close(map->fd);
	map->fd = -1;
}

bool ks_trace_ctx_map_has_users(struct ks_trace_ctx_map *map)
{
	uint32_t was = map->user_prog;

	if (map->fd < 0)
		return false;
	if (map->user_prog && !ks_bpf_prog_loaded(map->user_prog))
		map->user_prog = 0;
	if (!map->user_prog)
		map->user_prog = ks_bpf_map_next_user_prog(
			map->id, &map->last_prog_seen, map->own_progs,
			map->nr_own_progs);
	if (map->user_prog && !was)
		ks_info("program %u uses %s: spans are published there\n",
			map->user_prog, map->path);
	else if (!map->user_prog && was)
		ks_info("no other program uses %s: spans are no longer "
			"published there\n",
			map->path);
	return map->user_prog;
}

void ks_trace_ctx_map_update(struct ks_trace_ctx_map *map, uint64_t pid_tgid,
			     const uint8_t span_id[8],
			     const uint8_t trace_id[16])
{
	struct ks_trace_ctx ctx;

	if (map->fd < 0 || bpf_map_lookup_elem(map->fd, &pid_tgid, &ctx) ||
	    memcmp(ctx.span_id, span_id, sizeof(ctx.span_id)))
		return;
	memcpy(ctx.trace_id, trace_id, sizeof(ctx.trace_id));
	/* BPF_EXIST: if the kernel took it back meanwhile, it stays gone. */
	bpf_map_update_elem(map->fd, &pid_tgid, &ctx, BPF_EXIST);
}

void ks_trace_ctx_map_retract(struct ks_trace_ctx_map *map, uint64_t pid_tgid,
			      const uint8_t span_id[8])
{
	struct ks_trace_ctx ctx;

	if (map->fd < 0 || bpf_map_lookup_elem(map->fd, &pid_tgid, &ctx) ||
	    memcmp(ctx.span_id, span_id, sizeof(ctx.span_id)))
		return;
	bpf_map_delete_elem(map->fd, &pid_tgid);
}
