// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/printable.h"
#include "base/proc.h"
#include "capture/elf_symbols.h"
#include "capture/precise.h"

struct ks_probe {
	const char *program;
	const char *function;
	bool retprobe;
};

/* _clocklock is timedlock with a clock; __-less names are the public ones. */
static const struct ks_probe ks_probes[] = {
	{ "ks_mutex_lock", "pthread_mutex_lock", false },
	{ "ks_mutex_timedlock", "pthread_mutex_timedlock", false },
	{ "ks_mutex_timedlock", "pthread_mutex_clocklock", false },
	{ "ks_mutex_trylock", "pthread_mutex_trylock", false },
	{ "ks_mutex_unlock", "pthread_mutex_unlock", false },
	{ "ks_mutex_destroy", "pthread_mutex_destroy", false },
	{ "ks_mutex_return", "pthread_mutex_lock", true },
	{ "ks_mutex_return", "pthread_mutex_timedlock", true },
	{ "ks_mutex_return", "pthread_mutex_clocklock", true },
	{ "ks_mutex_return", "pthread_mutex_trylock", true },
};

#define KS_NR_PROBES (sizeof(ks_probes) / sizeof(ks_probes[0]))

struct ks_precise_process {
	uint32_t tgid;
	struct bpf_link *links[KS_NR_PROBES];
	UT_hash_handle hh;
};

/*
 * A process caught between its exec and its dynamic loader's mapping of
 * libc: tried again each tick, until its deadline.
 */
#define KS_PRECISE_PENDING_MAX 64
#define KS_PRECISE_LOADER_WAIT_NS (5 * 1000000000ull)

struct ks_precise_pending {
	uint32_t tgid;
	uint64_t deadline_ns;
};

struct ks_precise {
	struct ks_capture *capture;
	const uint32_t *pids;
	unsigned int nr_pids;
	const char (*comms)[KS_COMM_LEN];
	unsigned int nr_comms;
	struct ks_precise_process *processes;
	struct ks_precise_pending pending[KS_PRECISE_PENDING_MAX];
	unsigned int nr_pending;
};

struct ks_precise *ks_precise_new(struct ks_capture *capture,
				  const uint32_t *pids, unsigned int nr_pids,
				  const char (*comms)[KS_COMM_LEN],
				  unsigned int nr_comms)
{
	struct ks_precise *precise = calloc(1, sizeof(*precise));

	if (!precise)
		return NULL;
	precise->capture = capture;
	precise->pids = pids;
	precise->nr_pids = nr_pids;
	precise->comms = comms;
	precise->nr_comms = nr_comms;
	return precise;
}

static void ks_precise_process_free(struct ks_precise *precise,
				    struct ks_precise_process *process)
{
	HASH_DEL(precise->processes, process);
	for (size_t i = 0; i < KS_NR_PROBES; i++)
		bpf_link__destroy(process->links[i]);
	free(process);
}

void ks_precise_free(struct ks_precise *precise)
{
	struct ks_precise_process *process, *tmp;

	if (!precise)
		return;
	HASH_ITER(hh, precise->processes, process, tmp)
		ks_precise_process_free(precise, process);
	free(precise);
}

bool ks_precise_wants(const struct ks_precise *precise, uint32_t tgid,
		      const char *comm)
{
	for (unsigned int i = 0; i < precise->nr_pids; i++)
		if (precise->pids[i] == tgid)
			return true;
	for (unsigned int i = 0; i < precise->nr_comms; i++)
		if (!strncmp(precise->comms[i], comm, KS_COMM_LEN))
			return true;
	return false;
}

static bool ks_ends_with(const char *s, const char *suffix)
{
	size_t len = strlen(s), suffix_len = strlen(suffix);

	return len >= suffix_len && !strcmp(s + len - suffix_len, suffix);
}

int ks_precise_find_library(uint32_t tgid, char *path, size_t size)
{
	char maps[64], line[4096], libc[PATH_MAX] = "";
	bool loader = false;
	FILE *f;
	int ret = -ENOENT;

	snprintf(maps, sizeof(maps), "%s/%u/maps", ks_proc_root(), tgid);
	f = fopen(maps, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *file = strchr(line, '/');

		if (!file)
			continue;
		file[strcspn(file, "\n")] = '\0';
		/* Before glibc 2.34 the mutex API lived in libpthread. */
		if (strstr(file, "/libpthread.so") ||
		    strstr(file, "/libpthread-")) {
			snprintf(path, size, "%s/%u/root%s", ks_proc_root(),
				 tgid, file);
			ret = 0;
			goto cleanup;
		}
		if (!libc[0] && (ks_ends_with(file, "/libc.so.6") ||
				 strstr(file, "/libc-")))
			snprintf(libc, sizeof(libc), "%s", file);
		if (strstr(file, "/ld-linux"))
			loader = true;
	}
	if (libc[0]) {
		snprintf(path, size, "%s/%u/root%s", ks_proc_root(), tgid,
			 libc);
	} else if (loader) {
		/* Just after exec: the loader has not mapped libc yet. */
		ret = -EAGAIN;
		goto cleanup;
	} else { /* no loader: a static executable carries its own */
		snprintf(path, size, "%s/%u/exe", ks_proc_root(), tgid);
	}
	ret = 0;
cleanup:
	fclose(f);
	return ret;
}

static void ks_pending_remove(struct ks_precise *precise, uint32_t tgid)
{
	for (unsigned int i = 0; i < precise->nr_pending; i++)
		if (precise->pending[i].tgid == tgid) {
			precise->pending[i] =
				precise->pending[--precise->nr_pending];
			return;
		}
}

/* Tried again at the next tick (ks_precise_retry()), if there is room. */
static int ks_pending_add(struct ks_precise *precise, uint32_t tgid)
{
	for (unsigned int i = 0; i < precise->nr_pending; i++)
		if (precise->pending[i].tgid == tgid)
			return -EAGAIN;
	if (precise->nr_pending == KS_PRECISE_PENDING_MAX) {
		ks_warn("precise mode: pid %u has not mapped libc yet, and "
			"%u others wait for theirs: not probed\n",
			tgid, KS_PRECISE_PENDING_MAX);
		return -EBUSY;
	}
	precise->pending[precise->nr_pending++] = (struct ks_precise_pending){
		.tgid = tgid,
		.deadline_ns = ks_now_mono_ns() + KS_PRECISE_LOADER_WAIT_NS,
	};
	return -EAGAIN;
}

int ks_precise_attach(struct ks_precise *precise, uint32_t tgid)
{
	struct ks_precise_process *process;
	char path[PATH_MAX], shown[KS_PRINTABLE_SIZE(256)];
	int err;

	HASH_FIND(hh, precise->processes, &tgid, sizeof(tgid), process);
	if (process)
		return 0;
	err = ks_precise_find_library(tgid, path, sizeof(path));
	if (err == -EAGAIN)
		return ks_pending_add(precise, tgid);
	ks_pending_remove(precise, tgid);
	if (err) {
		ks_warn("precise mode: cannot read the maps of pid %u: %s\n",
			tgid, strerror(-err));
		return err;
	}
	process = calloc(1, sizeof(*process));
	if (!process)
		return -ENOMEM;
	process->tgid = tgid;
	HASH_ADD(hh, precise->processes, tgid, sizeof(tgid), process);
	for (size_t i = 0; i < KS_NR_PROBES; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts,
			    .retprobe = ks_probes[i].retprobe);
		struct bpf_program *prog = ks_capture_program(
			precise->capture, ks_probes[i].program);
		uint64_t offset;

		err = ks_elf_function_offset(path, ks_probes[i].function,
					     &offset);
		/* clocklock is glibc 2.30+: the others must be there. */
		if (err == -ENOENT &&
		    !strcmp(ks_probes[i].function, "pthread_mutex_clocklock"))
			continue;
		if (!err) {
			process->links[i] = bpf_program__attach_uprobe_opts(
				prog, (pid_t)tgid, path, offset, &opts);
			err = process->links[i] ? 0 : -errno;
		}
		if (err) {
			ks_warn("precise mode: cannot probe %s in %s for pid "
				"%u: %s\n",
				ks_probes[i].function,
				ks_printable(path, shown, sizeof(shown)), tgid,
				strerror(-err));
			ks_precise_process_free(precise, process);
			return err;
		}
	}
	ks_debug("precise mode: probes on the mutex API of pid %u (%s)\n", tgid,
		 ks_printable(path, shown, sizeof(shown)));
	return 0;
}

void ks_precise_retry(struct ks_precise *precise, uint64_t now_ns)
{
	unsigned int i = 0;

	while (i < precise->nr_pending) {
		struct ks_precise_pending pending = precise->pending[i];

		if (ks_precise_attach(precise, pending.tgid) != -EAGAIN) {
			/* Done with, either way: its slot now holds another. */
			ks_pending_remove(precise, pending.tgid);
			continue;
		}
		if (now_ns < pending.deadline_ns) {
			i++;
			continue;
		}
		ks_warn("precise mode: pid %u mapped no libc in %llu s: not "
			"probed\n",
			pending.tgid,
			(unsigned long long)(KS_PRECISE_LOADER_WAIT_NS /
					     1000000000ull));
		ks_pending_remove(precise, pending.tgid);
	}
}

void ks_precise_detach(struct ks_precise *precise, uint32_t tgid)
{
	struct ks_precise_process *process;

	ks_pending_remove(precise, tgid);
	HASH_FIND(hh, precise->processes, &tgid, sizeof(tgid), process);
	if (process)
		ks_precise_process_free(precise, process);
}
