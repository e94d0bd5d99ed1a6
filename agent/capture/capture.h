/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel side's lifecycle: open the BPF object, write its configuration,
 * load it (system calls hooked the cheapest way the kernel allows, other
 * tracepoints as tp_btf where it allows, raw_tp otherwise), fill the
 * selection maps, attach, and hand ring buffer records to a callback.
 */
#ifndef KS_CAPTURE_H
#define KS_CAPTURE_H

#include <bpf/libbpf.h>
#include <stdint.h>

#include "capture/syscall_hooks.h"
#include "knotscope_abi.h"
#include "model/selection.h"

struct ks_capture;

struct ks_capture_config {
	const struct ks_selection *selection;
	uint32_t ringbuf_bytes;
	uint64_t offcpu_min_ns; /* 0: off-CPU intervals are not watched */
	/* A thread copies its stack at a futex wait at most this often, and
	 * at the end of one that copied none and lasted min_wait_ns. */
	uint64_t stack_every_ns;
	uint64_t min_wait_ns;
	bool precise; /* load the uprobe programs of precise mode */
	const char *attach_mode; /* "tp_btf", "raw_tp", or NULL: either */
	/* How system calls are hooked, or NULL: the cheapest that works. */
	const enum ks_syscall_hooks *syscall_hooks;
	enum ks_wait_hooks wait_hooks;
	/* Every message through pipes, unix sockets, eventfds, every reap. */
	bool channel_edges;
	/* Socket capture for HTTP spans; off: its programs are not loaded. */
	bool http;
	uint32_t capture_bytes;
	/* The shared traces_ctx_v1 map the kernel side publishes spans in,
	 * or -1: nothing is published. */
	int trace_ctx_fd;
	ring_buffer_sample_fn on_record;
	void *ctx;
};

/* Returns 0, or a negative errno after logging why. */
int ks_capture_open(struct ks_capture **out,
		    const struct ks_capture_config *config);
void ks_capture_close(struct ks_capture *capture);

/* The loaded object: its maps and programs, for pinning and statistics. */
struct bpf_object *ks_capture_object(const struct ks_capture *capture);
const char *ks_capture_attach_mode(const struct ks_capture *capture);
/* "fentry", "tracepoint", "sys_enter", or "none": no call is hooked. */
const char *ks_capture_syscall_hooks(const struct ks_capture *capture);
int ks_capture_epoll_fd(const struct ks_capture *capture);
/* A loaded program, for attachments the agent makes itself (uprobes). */
struct bpf_program *ks_capture_program(struct ks_capture *capture,
				       const char *name);
/*
 * Hands the records waiting in the ring buffer to the callback, until
 * there are none or the callback returns a negative value (the record it
 * was handed counts as consumed); returns that value, or what libbpf says.
 */
int ks_capture_consume(struct ks_capture *capture);
/* Sums the per-CPU counters. */
int ks_capture_read_stats(const struct ks_capture *capture,
			  struct ks_cpu_stats *sum);
/*
 * Tells the kernel side about a wait that began before it was attached, so
 * the wait's end is reported like any other.
 */
int ks_capture_track_wait(struct ks_capture *capture, uint32_t tid,
			  const struct ks_inflight *inflight);
/* The ids of the loaded programs, at most max of them; how many. */
/*
 * When the read of a pipe, unix socket or eventfd thread tid is in began,
 * from the kernel side's slot for it (with --channel-edges, written in
 * place at each such read's entry, cleared at its return; else noted when
 * the read blocked, until it is woken); 0 when it is in no such read of fd.
 */
uint64_t ks_capture_read_began(struct ks_capture *capture, uint32_t tid,
			       int fd);

/*
 * Whether the kernel side publishes the spans its server connections start
 * in traces_ctx_v1 (with --http, when that map is shared): while another
 * program uses the map.  Publication costs about half a microsecond per
 * request, which nobody should pay for a map nothing reads.
 */
void ks_capture_publish_trace_ctx(struct ks_capture *capture, bool publish);

unsigned int ks_capture_prog_ids(const struct ks_capture *capture,
				 uint32_t *ids, unsigned int max);
/* The kernel side stops following connection conn_id on socket sock
 * (ks_sock_open) until the socket ends. */
void ks_capture_forget_sock(struct ks_capture *capture, uint64_t sock,
			    uint64_t conn_id);

#endif /* KS_CAPTURE_H */
