/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where a function lives in an ELF file, as a uprobe wants it: its file
 * offset.  glibc exports versioned twins of one function (pthread_mutex_
 * trylock@GLIBC_2.2.5 and @@GLIBC_2.34, at one address), which libbpf 1.1
 * refuses as ambiguous; the address is what matters, and it is the same.
 */
#ifndef KS_ELF_SYMBOLS_H
#define KS_ELF_SYMBOLS_H

#include <stdint.h>

/* 0 with *offset set; -ENOENT if absent, -EINVAL if twins disagree. */
int ks_elf_function_offset(const char *path, const char *name,
			   uint64_t *offset);

#endif /* KS_ELF_SYMBOLS_H */
