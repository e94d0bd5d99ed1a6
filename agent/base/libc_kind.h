/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which C library a process runs on: glibc and musl lay their locks out
 * differently, so the same futex words mean different things in each.
 */
#ifndef KS_LIBC_KIND_H
#define KS_LIBC_KIND_H

#include <stdint.h>

enum ks_libc {
	KS_LIBC_UNKNOWN = 0,
	KS_LIBC_GLIBC,
	KS_LIBC_MUSL,
};

/*
 * From the process's mappings (ld-linux and libc.so.6, or ld-musl), or for
 * a static program from its executable: glibc's start files leave an ABI
 * tag note, musl's symbol table has __init_libc.  A stripped static musl
 * program is unknown.
 */
enum ks_libc ks_proc_libc(uint32_t tgid);

const char *ks_libc_name(enum ks_libc libc);

#endif /* KS_LIBC_KIND_H */
