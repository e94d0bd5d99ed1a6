// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A stand-in for a profiler that reads traces_ctx_v1: a program that uses
 * the map and does nothing else.  The tests load it with bpftool, given the
 * pinned map (`map name traces_ctx_v1 pinned PATH`), and never attach it;
 * that it is loaded and uses the map is all the agent can see of a
 * profiler, and what makes it publish spans there.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "knotscope_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KS_TRACES_CTX_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct ks_trace_ctx);
} traces_ctx_v1 SEC(".maps");

SEC("socket")
int read_trace_ctx(struct __sk_buff *skb)
{
	__u64 pid_tgid = 0;

	return bpf_map_lookup_elem(&traces_ctx_v1, &pid_tgid) != NULL;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
