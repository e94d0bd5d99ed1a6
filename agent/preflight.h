/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Checks, before anything is loaded, what knotscope needs from the kernel
 * and from its own privileges, so a missing piece is one clear line rather
 * than a verifier log.
 */
#ifndef KS_PREFLIGHT_H
#define KS_PREFLIGHT_H

/* Returns 0, or -1 after logging what is missing and how to get it. */
int ks_preflight(void);

#endif /* KS_PREFLIGHT_H */
