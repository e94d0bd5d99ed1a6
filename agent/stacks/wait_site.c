// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "stacks/wait_site.h"

/* The lock machinery is a few frames deep; the caller is right above. */
#define KS_SITE_MAX_FRAMES 12

static bool ks_starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

bool ks_frame_in_lock_machinery(const struct ks_frame *frame)
{
	/*
	 * By module for shared libraries (libc.so covers musl's, which Debian
	 * names libc.so); by name for static binaries, where the C library's
	 * functions live in the program itself, and for the C++ and Rust
	 * standard libraries, whose locks are inlined into their callers.
	 */
	static const char *const libraries[] = {
		"libc.so", "libpthread.so", "ld-linux",
		"ld-musl", "libc.musl",	    "libstdc++.so",
	};
	static const char *const functions[] = {
		"pthread_",	"__pthread_", "__lll_",	     "lll_",
		"__GI_",	"futex_",     "__futex",     "sem_",
		"__new_sem",	"__sem",      "__gthread_",  "std::",
		"<std::",	"core::",     "__gnu_cxx::", "__timedwait",
		"__syscall_cp", "__wait",
	};
	/* Headers of the C++ standard library; Rust's std from its sources. */
	static const char *const sources[] = { "/c++/", "/rustc/" };
	const char *base = strrchr(frame->module, '/');

	base = base ? base + 1 : frame->module;
	for (size_t i = 0; i < sizeof(libraries) / sizeof(libraries[0]); i++)
		if (ks_starts_with(base, libraries[i]))
			return true;
	for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++)
		if (ks_starts_with(frame->function, functions[i]))
			return true;
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (strstr(frame->file, sources[i]))
			return true;
	return false;
}

int ks_wait_stack(struct ks_symbolizer *symbolizer,
		  const struct ks_thread *thread, unsigned int max_frames,
		  struct ks_stack *stack)
{
	const struct ks_wait_begin *begin = &thread->wait.begin;
	struct ks_stack_source source = {
		.regs = begin->regs,
		.snapshot = begin->stack,
		.snapshot_len = begin->stack_len,
		/* The thread may be anywhere by now: the snapshot only. */
		.live = false,
	};

	return ks_symbolizer_unwind(symbolizer, thread->tgid, thread->tid,
				    &source, max_frames, stack);
}

int ks_wait_site(struct ks_symbolizer *symbolizer,
		 const struct ks_thread *thread, struct ks_frame *site)
{
	struct ks_stack *stack = malloc(sizeof(*stack));
	int ret = -1;

	if (!stack)
		return -1;
	if (ks_wait_stack(symbolizer, thread, KS_SITE_MAX_FRAMES, stack))
		goto cleanup;
	for (unsigned int i = 0; i < stack->nr; i++) {
		if (ks_frame_in_lock_machinery(&stack->frames[i]))
			continue;
		*site = stack->frames[i];
		ret = 0;
		break;
	}
cleanup:
	free(stack);
	return ret;
}
