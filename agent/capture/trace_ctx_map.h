/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * traces_ctx_v1, the pinned BPF map through which OpenTelemetry's eBPF
 * profiler (and OBI) learn which span each thread is in, so that profile
 * samples point at spans: an LRU hash at <bpffs>/otel/traces_ctx_v1 from
 * pid_tgid to a trace id and a span id (struct ks_trace_ctx).
 *
 * Whoever starts first creates and pins it, with the exact definition its
 * readers check (type, key and value sizes, 16384 entries, no flags); the
 * others reuse it.  One pinned that no program or process uses is a
 * leftover of a run that was killed: it is taken over, to be unpinned at
 * the end like one created.  One pinned with another layout is left alone
 * and not used.  The kernel side writes the entries; the agent corrects trace ids
 * the kernel could not know and takes back what dead threads left.
 */
#ifndef KS_TRACE_CTX_MAP_H
#define KS_TRACE_CTX_MAP_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define KS_DEFAULT_BPFFS "/sys/fs/bpf"

#define KS_TRACE_CTX_MAX_OWN_PROGS 64

struct ks_trace_ctx_map {
	int fd; /* -1: not in use */
	/*
	 * This agent created and pinned it, or took it over from a run
	 * killed before it could unpin it: its to unpin at the end.
	 */
	bool created;
	char bpffs[PATH_MAX];
	uint32_t id;
	char path[PATH_MAX];
	/* This agent's programs: the kernel may list them for a while after
	 * they are closed, and they are no other user. */
	uint32_t own_progs[KS_TRACE_CTX_MAX_OWN_PROGS];
	unsigned int nr_own_progs;
	/* Another program that uses it (0: none found), and the last program
	 * looked at for one. */
	uint32_t user_prog;
	uint32_t last_prog_seen;
};

/*
 * Finds or creates the map under bpffs (mounting a BPF filesystem there
 * when none is, and saying so).  Returns 0, or a negative errno after
 * saying why correlation is off; the map is then not in use.
 */
int ks_trace_ctx_map_open(struct ks_trace_ctx_map *map, const char *bpffs);

/*
 * Unpins the map only if this agent created it and no other program or
 * process uses it (own_progs aside); closes it.
 */
void ks_trace_ctx_map_close(struct ks_trace_ctx_map *map);

/*
 * Whether a program other than this agent's uses the map: a profiler that
 * reads it, or another writer.  Cheap enough to ask every second: the
 * program found last time is only checked for being still loaded, and
 * otherwise only programs loaded since the last call are looked at.  Says
 * when the answer changes.
 */
bool ks_trace_ctx_map_has_users(struct ks_trace_ctx_map *map);

/* pid_tgid's entry, if it still holds span_id, gets trace_id. */
void ks_trace_ctx_map_update(struct ks_trace_ctx_map *map, uint64_t pid_tgid,
			     const uint8_t span_id[8],
			     const uint8_t trace_id[16]);

/* pid_tgid's entry goes, if it still holds span_id. */
void ks_trace_ctx_map_retract(struct ks_trace_ctx_map *map, uint64_t pid_tgid,
			      const uint8_t span_id[8]);

#endif /* KS_TRACE_CTX_MAP_H */
