/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Who can end an I/O wait: the threads that could put bytes into the pipe
 * or socket a reader waits on, take bytes out of the one a writer waits on,
 * or make a child exit.
 *
 * Exact, within what a file table shows: every thread of every process
 * that holds the other end open (for a pipe or FIFO, the other end is the
 * same pipe opened the other way).  Narrowed where the records say more:
 * of a process holding the other end of a connection, the one thread that
 * took in data from it last, and has not been answered since (it serves the
 * request the waiter waits on the answer to): io and sock_data records
 * (with --http) tell who read and wrote which fd.
 */
#ifndef KS_IO_PARTIES_H
#define KS_IO_PARTIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/table.h"

/* Beyond this many, a wait is taken for one nobody can be sure of. */
#define KS_IO_MAX_PARTIES 256

/*
 * Finds the parties of every waiter's target (waiters[i]->io.target),
 * looking at the processes tgids[0..nr_tgids) only, or everywhere: at
 * every process of /proc (then the parties are complete: nobody else holds
 * the other ends).  Returns 0, or -1 when /proc cannot be read or memory
 * runs out (the targets are then left as they were).
 */
int ks_io_parties_find(const struct ks_table *table,
		       struct ks_thread *const *waiters, size_t nr_waiters,
		       const uint32_t *tgids, size_t nr_tgids, bool everywhere,
		       uint64_t now);

#endif /* KS_IO_PARTIES_H */
