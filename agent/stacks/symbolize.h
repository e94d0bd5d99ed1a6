/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Stacks of blocked threads, unwound with DWARF call frame information and
 * symbolized with libdw.
 *
 * The kernel side saves a waiting thread's registers when the wait begins;
 * its stack is read later, straight from the process, which is sound because
 * a thread blocked in futex() cannot change its own stack.  So stacks cost
 * the traced program nothing, and frame pointers are not needed: glibc and
 * most distribution binaries are built without them.
 */
#ifndef KS_SYMBOLIZE_H
#define KS_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "knotscope_abi.h"

#define KS_MAX_FRAMES 48

struct ks_frame {
	uint64_t pc;
	char function[256]; /* "" when no symbol covers pc; demangled */
	uint64_t function_offset;
	char module[256]; /* path inside the process's mount namespace */
	uint64_t
		module_offset; /* address in the ELF file, as addr2line wants */
	char file[256]; /* "" without debug information */
	int line;
	bool inlined; /* inlined into the next frame, same pc */
	/* Found by scanning the stack past code without call frame
	 * information: likely, not certain, the caller. */
	bool scanned;
};

struct ks_stack {
	unsigned int nr;
	struct ks_frame frames[KS_MAX_FRAMES];
};

struct ks_symbolizer;

struct ks_symbolizer *ks_symbolizer_new(void);
void ks_symbolizer_free(struct ks_symbolizer *symbolizer);
/*
 * Opens every file the process maps now, so its stacks can be symbolized
 * after it exits: for reports that come late, like precise mode's.
 */
void ks_symbolizer_preload(struct ks_symbolizer *symbolizer, uint32_t tgid);
/* The process exited or exec'd: its mappings are gone. */
void ks_symbolizer_forget(struct ks_symbolizer *symbolizer, uint32_t tgid);

/* Where the unwinder may find a thread's registers and stack. */
struct ks_stack_source {
	const __u64 *regs; /* enum ks_user_reg order; 0 for unknown ones */
	const uint8_t *snapshot; /* stack bytes from regs[KS_REG_SP] up */
	uint32_t snapshot_len;
	/*
	 * Whether the rest may be read from the process: only while the
	 * thread is still inside the wait the registers come from.
	 */
	bool live;
};

/*
 * The 8 bytes at addr, when the snapshot holds them all.  For tests: the
 * unwinder reads through it.
 */
bool ks_stack_snapshot_read(const struct ks_stack_source *source, uint64_t addr,
			    uint64_t *value);

/*
 * Unwinds thread tid of process tgid into at most max_frames frames.
 * Returns 0 with at least one frame, or -1.
 */
int ks_symbolizer_unwind(struct ks_symbolizer *symbolizer, uint32_t tgid,
			 uint32_t tid, const struct ks_stack_source *source,
			 unsigned int max_frames, struct ks_stack *out);

/*
 * Symbolizes one address into up to max frames (inlined functions first);
 * return_address: pc follows a call instruction.  Returns the number of
 * frames, or -1.
 */
int ks_symbolizer_lookup(struct ks_symbolizer *symbolizer, uint32_t tgid,
			 uint64_t pc, bool return_address, struct ks_frame *out,
			 unsigned int max);

#endif /* KS_SYMBOLIZE_H */
