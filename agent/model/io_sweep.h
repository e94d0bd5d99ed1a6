/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A periodic look, from outside, at the watched threads blocked in I/O.
 *
 * Each sweep reads /proc/PID/task/TID/syscall of every watched thread that
 * is not in a futex or kernel lock wait the kernel side reported, and the
 * progress (schedstat) of those blocked in a call that can wait on I/O or a
 * child (io_call.h).  A call seen again in the next sweep, the thread not
 * having run at all in between, has lasted: it is resolved once
 * (io_wait.h), and who can end it is found among the processes that have
 * threads blocked for good (io_parties.h).  Reads and writes that do not
 * block cost the traced programs nothing, and those that do, nothing more.
 *
 * The agent pays a few microseconds per watched thread and sweep; the
 * interval between sweeps grows so that they take at most a fiftieth of
 * the agent's time.
 */
#ifndef KS_IO_SWEEP_H
#define KS_IO_SWEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/sock_diag.h"
#include "model/model.h"

/* How long a sweep's parties stay good before they are found again. */
#define KS_IO_PARTIES_TTL_NS (5 * 1000000000ull)

struct ks_io_sweep_hooks {
	/* When the read of fd tid is in began, as the kernel side saw it;
	 * 0 when it does not know. */
	uint64_t (*read_began)(void *ctx, uint32_t tid, int fd);
	void *ctx;
};

struct ks_io_sweep_stats {
	uint64_t sweeps;
	uint64_t sampled; /* thread samples taken, in all */
	uint64_t last_cost_ns; /* how long the last sweep took */
	uint64_t interval_ns; /* between sweeps, now */
	unsigned int blocked; /* threads in a lasting I/O wait, now */
	unsigned int resolved; /* of those, with a pipe, socket or child */
};

struct ks_io_sweep;

/* interval_ns: the shortest time between sweeps. */
struct ks_io_sweep *ks_io_sweep_new(uint64_t interval_ns,
				    const struct ks_io_sweep_hooks *hooks);
void ks_io_sweep_free(struct ks_io_sweep *sweep);

/* The socket tables, as the sweep asks them (in each socket's namespace). */
struct ks_sock_diag *ks_io_sweep_diag(struct ks_io_sweep *sweep);

bool ks_io_sweep_due(const struct ks_io_sweep *sweep, uint64_t now);

/*
 * One sweep over model's table; bumps model->version when a lasting I/O
 * wait was resolved, ended, or found other parties.
 */
void ks_io_sweep_run(struct ks_io_sweep *sweep, struct ks_model *model,
		     uint64_t now);

/*
 * Finds the parties of thread's wait among every process of the machine,
 * not only those with threads blocked: before a deadlock is confirmed.
 */
int ks_io_sweep_complete(struct ks_io_sweep *sweep,
			 const struct ks_table *table, struct ks_thread *thread,
			 uint64_t now);

void ks_io_sweep_stats(const struct ks_io_sweep *sweep,
		       struct ks_io_sweep_stats *out);

#endif /* KS_IO_SWEEP_H */
