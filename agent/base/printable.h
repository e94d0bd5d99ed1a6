/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Text that traced processes choose (thread and process names, paths,
 * symbol and source file names) made safe to print for people.  A thread
 * may call itself "\e[2J" to clear the terminal that shows knotscope's
 * reports, or "x\nknotscope: OK" to forge a line of them: every byte that
 * is not printable UTF-8 is written as \xNN instead, and a backslash as \\
 * so that the escapes cannot be forged either.  Control characters (C0,
 * DEL, C1), malformed UTF-8 and the bidirectional overrides, which reorder
 * what a terminal shows, are escaped; other UTF-8 is kept as it is.
 *
 * This is the one escaping of traced processes' text: everything that
 * prints it for people goes through here (JSON and OTLP carry it as data).
 */
#ifndef KS_PRINTABLE_H
#define KS_PRINTABLE_H

#include <stdbool.h>
#include <stddef.h>

/* Room for text of len bytes however it is escaped, and the NUL. */
#define KS_PRINTABLE_SIZE(len) (4 * (len) + 1)

/*
 * Writes text into out, escaped, always NUL-terminated and cut at a whole
 * character or escape when out is too small; returns out.
 */
char *ks_printable(const char *text, char *out, size_t size);

/* Whether ks_printable() would keep text as it is, backslashes aside. */
bool ks_is_printable(const char *text);

#endif /* KS_PRINTABLE_H */
