/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the agent found, kept for the page across restarts: JSON records
 * of any type ({"type": "deadlock", ...}, as --json writes them), newest
 * last, the latest max in memory and, with a file, appended to it one per
 * line as they come.  At start the file's records come back, marked
 * "restored": true, so that an incident is still there after the agent
 * restarted (a crash, an upgrade, a node's reboot with the file on a
 * hostPath).  The file is bounded too: past twice max records it is
 * rewritten with the latest max (to a new file, renamed over the old).
 *
 * Only the main thread calls these.  Writing never stops the agent: a
 * file that cannot be written is said once, and the records stay in
 * memory.
 */
#ifndef KS_HISTORY_H
#define KS_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#define KS_HISTORY_DEFAULT_MAX 200
/* A line longer than this in the file is not a record of ours. */
#define KS_HISTORY_MAX_RECORD (4u << 20)

struct ks_history;

/*
 * path may be NULL: memory only.  Reads back what path holds; lines that
 * are not JSON objects with a "type" are skipped and counted.  NULL on
 * ENOMEM only: an unreadable file is said and left alone.
 */
struct ks_history *ks_history_open(const char *path, size_t max);
void ks_history_close(struct ks_history *history);

/* The longest record type: "deadlock", "stall". */
#define KS_HISTORY_TYPE_MAX 31

/*
 * Keeps record (a JSON object whose "type" is type), and appends it to
 * the file.
 */
void ks_history_append(struct ks_history *history, const char *type,
		       const char *record);

/* Records kept, oldest first: i from 0 to ks_history_count() - 1. */
size_t ks_history_count(const struct ks_history *history);
const char *ks_history_record(const struct ks_history *history, size_t i);
const char *ks_history_type(const struct ks_history *history, size_t i);
/* Records appended since the start, restored ones included. */
uint64_t ks_history_total(const struct ks_history *history);
/* Records of the file that were skipped at start. */
uint64_t ks_history_skipped(const struct ks_history *history);

#endif /* KS_HISTORY_H */
