// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "model/record.h"

static const char *const ks_record_names[KS_EV_KIND_MAX] = {
	[KS_EV_WAIT_BEGIN] = "wait_begin",
	[KS_EV_WAIT_END] = "wait_end",
	[KS_EV_FORK] = "fork",
	[KS_EV_EXEC] = "exec",
	[KS_EV_EXIT] = "exit",
	[KS_EV_RENAME] = "rename",
	[KS_EV_WAKE] = "wake",
	[KS_EV_IO] = "io",
	[KS_EV_REAPED] = "reaped",
	[KS_EV_OFFCPU] = "offcpu",
	[KS_EV_KLOCK_BEGIN] = "klock_begin",
	[KS_EV_KLOCK_END] = "klock_end",
	[KS_EV_LOCK_CALL] = "lock_call",
	[KS_EV_LOCK_RESULT] = "lock_result",
	[KS_EV_WAKEUP] = "wakeup",
	[KS_EV_SOCK_OPEN] = "sock_open",
	[KS_EV_SOCK_DATA] = "sock_data",
	[KS_EV_SOCK_CLOSE] = "sock_close",
	[KS_EV_READ_WOKEN] = "read_woken",
};

/* The smallest each kind can be: a wait_begin may end before its stack. */
static const size_t ks_record_min_size[KS_EV_KIND_MAX] = {
	[KS_EV_WAIT_BEGIN] = offsetof(struct ks_wait_begin, stack),
	[KS_EV_WAIT_END] = sizeof(struct ks_wait_end),
	[KS_EV_FORK] = sizeof(struct ks_fork),
	[KS_EV_EXEC] = sizeof(struct ks_exec),
	[KS_EV_EXIT] = sizeof(struct ks_exit),
	[KS_EV_RENAME] = sizeof(struct ks_rename),
	[KS_EV_WAKE] = sizeof(struct ks_wake),
	[KS_EV_IO] = sizeof(struct ks_io),
	[KS_EV_REAPED] = sizeof(struct ks_reaped),
	[KS_EV_OFFCPU] = sizeof(struct ks_offcpu),
	[KS_EV_KLOCK_BEGIN] = sizeof(struct ks_klock_begin),
	[KS_EV_KLOCK_END] = sizeof(struct ks_klock_end),
	[KS_EV_LOCK_CALL] = sizeof(struct ks_lock_call_rec),
	[KS_EV_LOCK_RESULT] = sizeof(struct ks_lock_result),
	[KS_EV_WAKEUP] = sizeof(struct ks_wakeup),
	[KS_EV_SOCK_OPEN] = sizeof(struct ks_sock_open),
	[KS_EV_SOCK_DATA] = sizeof(struct ks_sock_data),
	[KS_EV_SOCK_CLOSE] = sizeof(struct ks_sock_close),
	[KS_EV_READ_WOKEN] = sizeof(struct ks_read_woken),
};

const char *ks_record_kind_name(unsigned int kind)
{
	return kind < KS_EV_KIND_MAX && ks_record_names[kind] ?
		       ks_record_names[kind] :
		       "unknown";
}

bool ks_record_valid(const void *data, size_t size)
{
	const struct ks_event_header *hdr = data;

	return size >= sizeof(*hdr) && hdr->kind != 0 &&
	       hdr->kind < KS_EV_KIND_MAX && hdr->size == size &&
	       ks_record_min_size[hdr->kind] &&
	       size >= ks_record_min_size[hdr->kind];
}
