// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The one definition of every map and configuration variable. */
#include "common.bpf.h"

const volatile __u32 ks_agent_tgid = 0;
const volatile __u32 ks_filter_mode = 0;
const volatile __u64 ks_wakeup_bytes = KS_RINGBUF_DEFAULT_BYTES / 4;
const volatile __u64 ks_offcpu_min_ns = 0;
const volatile __u64 ks_stack_every_ns = KS_DEFAULT_STACK_EVERY_NS;
const volatile __u64 ks_stack_min_ns = 0;
const volatile __u32 ks_capture_bytes = KS_SOCK_CAPTURE_DEFAULT;
const volatile __u32 ks_syscall_waits = 0;
const volatile __u32 ks_channel_edges = 0;
/* Set by the agent while it runs (.bss), not at load. */
__u32 ks_publish_trace_ctx;

ks_events_map ks_events SEC(".maps");
ks_stats_map ks_stats SEC(".maps");
ks_inflight_map ks_inflight SEC(".maps");
ks_blocked_map ks_blocked SEC(".maps");
ks_sel_tgids_map ks_sel_tgids SEC(".maps");
ks_sel_comms_map ks_sel_comms SEC(".maps");
ks_fd_classes_map ks_fd_classes SEC(".maps");
ks_io_inflight_map ks_io_inflight SEC(".maps");
ks_streams_map ks_streams SEC(".maps");
ks_offcpu_since_map ks_offcpu_since SEC(".maps");
ks_klock_inflight_map ks_klock_inflight SEC(".maps");
ks_socks_map ks_socks SEC(".maps");
ks_traces_ctx_map ks_traces_ctx SEC(".maps");
ks_agent_conns_map ks_agent_conns SEC(".maps");
ks_agent_connecting_map ks_agent_connecting SEC(".maps");

char LICENSE[] SEC("license") = "Dual BSD/GPL";
