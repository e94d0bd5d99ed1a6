/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A deadlock member blocked in I/O, described: the call it is in, the
 * pipe, socket or child it waits on and its state, and the processes or
 * threads that hold the other end, for the text report and the --json
 * record (docs/io-deadlocks.md).
 */
#ifndef KS_IO_WAIT_DESCRIBE_H
#define KS_IO_WAIT_DESCRIBE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "detect/detector.h"

/* "pipe:[2034]", "fifo:[2034]", "socket:[2034]" or "pid 4242". */
void ks_io_object_describe(const struct ks_io_target *io, char *buf,
			   size_t size);
/* "127.0.0.1:5000", "[::1]:5000". */
void ks_io_endpoint_describe(const struct ks_io_endpoint *endpoint, char *buf,
			     size_t size);

/* Adds "kind", "syscall" and "object" ("pipe:[2034]") of io's wait to obj. */
void ks_io_wait_add_names(json_object *obj, const struct ks_io_target *io);
/* Adds "local" and "remote" of a TCP wait to obj; nothing for others. */
void ks_io_endpoints_add_json(json_object *obj, const struct ks_io_target *io);

/* What member waits in and on, for whom, on one line (no newline). */
void ks_io_wait_write_text(FILE *out, const struct ks_deadlock *deadlock,
			   const struct ks_deadlock_member *member);

/*
 * Adds the fields of member's I/O wait to its "wait" object, but for when
 * it began (ks_thread_io_since()).
 */
void ks_io_wait_add_json(json_object *wait, const struct ks_deadlock *deadlock,
			 const struct ks_deadlock_member *member);

#endif /* KS_IO_WAIT_DESCRIBE_H */
