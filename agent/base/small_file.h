/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Files of a few lines read whole: /proc, /sys and /etc files the agent
 * reads facts from.  What does not fit the caller's buffer is not read.
 */
#ifndef KS_SMALL_FILE_H
#define KS_SMALL_FILE_H

#include <stddef.h>

/*
 * Reads at most size - 1 bytes of path into buf and NUL-terminates them.
 * Returns how many it read, or -1 when path cannot be read.
 */
int ks_read_small_file(const char *path, char *buf, size_t size);

/* The first line of path, without its newline; -1 (buf "") if unreadable. */
int ks_read_first_line(const char *path, char *buf, size_t size);

/*
 * In text read from a file of "Key:\tvalue" lines (/proc/PID/status), the
 * value of key, up to its newline; NULL when no line has that key.
 */
const char *ks_status_field(const char *text, const char *key);

#endif /* KS_SMALL_FILE_H */
