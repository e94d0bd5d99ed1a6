// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TCP connections of the watched processes, for HTTP spans (--http): each
 * read and write on them (how many bytes, and a copy of the first
 * ks_capture_bytes of them) and the socket's end.  What the bytes mean is
 * the agent's business.
 *
 * No system call is hooked: a syscall tracepoint, even one for a single
 * call, puts every task of the machine on the slow system call path
 * (docs/capture-cost.md).  The socket layer's own tracepoints are not
 * syscall tracepoints and cost nothing to other code:
 *
 * - sock:sock_recv_length and sock:sock_send_length, at the end of every
 *   socket read and write (read, recv*, readv, write, send*, writev, and
 *   sendfile/splice into a socket), in the reader's or writer's context:
 *   the system call's saved registers say which call it was and where its
 *   user buffer is.  Sockets that are not TCP, and processes that are not
 *   watched, stop at the first tests; a watched process's TCP socket costs
 *   one hash lookup of the socket.
 * - tcp:tcp_destroy_sock, when a socket is freed: the connection's end.  It
 *   runs where the last reference goes (often the softirq that takes the
 *   peer's last ACK), one lookup per TCP socket of the machine.
 * - sock:inet_sock_set_state, on every TCP state change of the machine: only
 *   the agent's own connections are looked at there (see ks_agent_conns).
 *
 * Without accept() and connect() hooks, a connection is known from its
 * first data: HTTP/1 clients speak first, so a connection whose first data
 * a watched process reads is a server connection, one it writes first a
 * client connection.  A protocol whose server speaks first is not HTTP,
 * and the agent gives it up whichever role it got.  Connections opened
 * before the agent started are picked up at their next data; if that is in
 * the middle of a message, the agent's parser sees no HTTP start and gives
 * the connection up (it is then ignored until its socket ends).
 *
 * Server connections also get the ids of the span their request starts,
 * drawn here, at the read that starts it, and published for the profiler in
 * traces_ctx_v1 until the response's first write: the agent learns of the
 * request a drain interval later, too late to say when the thread began it.
 */
#include <bpf/bpf_endian.h>

#include "common.bpf.h"
#include "syscalls.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define MSG_PEEK 2
#define KS_TCP_ESTABLISHED 1
#define KS_TCP_SYN_SENT 2

/* Where a data syscall keeps the bytes it moved. */
enum ks_buffer_kind {
	KS_BUF_NONE, /* sendfile, splice, io_uring...: unseen */
	KS_BUF_PLAIN, /* read, write, recvfrom, sendto: a buffer */
	KS_BUF_IOVEC, /* readv, writev: an array of iovecs */
	KS_BUF_MSGHDR, /* recvmsg, sendmsg: a msghdr pointing at iovecs */
};

/* Unique for the run; 0 never names a connection. */
static __u64 ks_next_conn_id;

/* Whether sk is an IPv4 or IPv6 TCP socket: the filter every socket call of
 * the machine goes through, so plain loads where the verifier allows. */
static __always_inline bool ks_is_tcp(bool ks_typed, struct sock *sk)
{
	__u16 family = KS_ARG(sk, __sk_common.skc_family);

	return (family == AF_INET || family == AF_INET6) &&
	       KS_ARG(sk, sk_protocol) == IPPROTO_TCP;
}

static __always_inline void ks_ipv4_mapped(__u8 addr[16], __be32 ipv4)
{
	__builtin_memset(addr, 0, 10);
	addr[10] = 0xff;
	addr[11] = 0xff;
	__builtin_memcpy(&addr[12], &ipv4, sizeof(ipv4));
}

/* Once per connection: BPF_CORE_READ in both twins keeps it one copy. */
static __always_inline void ks_read_tuple(const struct sock *sk, __u16 family,
					  struct ks_conn_tuple *tuple)
{
	__builtin_memset(tuple, 0, sizeof(*tuple));
	if (family == AF_INET) {
		ks_ipv4_mapped(tuple->local.addr,
			       BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
		ks_ipv4_mapped(tuple->remote.addr,
			       BPF_CORE_READ(sk, __sk_common.skc_daddr));
	} else {
		BPF_CORE_READ_INTO(&tuple->local.addr, sk,
				   __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&tuple->remote.addr, sk,
				   __sk_common.skc_v6_daddr);
	}
	tuple->local.port = BPF_CORE_READ(sk, __sk_common.skc_num);
	tuple->remote.port =
		bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

/* Takes the thread's traces_ctx_v1 entry back, if it is still this one's. */
static __always_inline void ks_retract_trace_ctx(struct ks_sock_state *state)
{
	__u64 pid_tgid = state->published_pid_tgid;
	struct ks_trace_ctx *current;
	__u64 published, now;

	if (!pid_tgid)
		return;
	state->published_pid_tgid = 0;
	current = bpf_map_lookup_elem(&ks_traces_ctx, &pid_tgid);
	if (!current)
		return;
	__builtin_memcpy(&published, state->published_span_id, 8);
	__builtin_memcpy(&now, current->span_id, 8);
	/* Someone else's now (OBI writes here too): leave it. */
	if (published == now)
		bpf_map_delete_elem(&ks_traces_ctx, &pid_tgid);
}

/* Kernel sockets (NFS, iSCSI...) have no file: their bytes are not the
 * calling process's, even when its system call made them move. */
static __always_inline bool ks_user_socket(const struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_socket, file) != NULL;
}

static __always_inline void ks_count_socks_full(void)
{
	struct ks_cpu_stats *stats = ks_cpu_stats();

	if (stats)
		__sync_fetch_and_add(&stats->socks_full, 1);
}

/*
 * The first data a watched process moves on a TCP socket: which way it goes
 * says the role (see the top of this file).  The agent's own connections,
 * seen from a watched peer, are remembered as ignored.  The state, or NULL.
 */
static __always_inline struct ks_sock_state *
ks_sock_track(struct sock *sk, __u64 key, __u8 direction)
{
	struct ks_sock_state state = {
		.role = direction == KS_SOCK_RECV ? KS_CONN_SERVER :
						    KS_CONN_CLIENT,
	};
	struct ks_sock_open *e;
	__u16 family;

	if (!ks_user_socket(sk))
		return NULL;
	e = ks_reserve(sizeof(*e), KS_EV_SOCK_OPEN);
	if (!e)
		return NULL;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	ks_read_tuple(sk, family, &e->tuple);
	if (bpf_map_lookup_elem(&ks_agent_conns, &e->tuple.remote)) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		state.ignored = 1;
		bpf_map_update_elem(&ks_socks, &key, &state, BPF_NOEXIST);
		return NULL;
	}
	state.conn_id = __sync_fetch_and_add(&ks_next_conn_id, 1) + 1;
	/* Another CPU's first data on the same socket won: that one counts. */
	if (bpf_map_update_elem(&ks_socks, &key, &state, BPF_NOEXIST)) {
		if (!bpf_map_lookup_elem(&ks_socks, &key))
			ks_count_socks_full();
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return NULL;
	}
	e->conn_id = state.conn_id;
	e->sock = key;
	e->role = state.role;
	e->family = (__u8)family;
	e->_pad0 = 0;
	e->_pad1 = 0;
	ks_submit(e);
	return bpf_map_lookup_elem(&ks_socks, &key);
}

/* SplitMix64's finalizer: a bijection that spreads every input bit. */
static __always_inline __u64 ks_mix64(__u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * W3C Trace Context ids are random and never all zero.  The three words of
 * a span's ids come from one 64-bit draw, mixed at three points of
 * SplitMix64's sequence: two helper calls instead of six on each request.
 */
static __always_inline __u64 ks_random_id(__u64 seed, __u64 n)
{
	__u64 v = ks_mix64(seed + n * 0x9e3779b97f4a7c15ULL);

	return v ? v : 1;
}

/* The read that starts a request: its span's ids, published for profilers. */
static __always_inline void ks_start_server_span(struct ks_sock_state *state,
						 struct ks_sock_data *rec)
{
	__u64 seed =
		((__u64)bpf_get_prandom_u32() << 32) | bpf_get_prandom_u32();
	__u64 pid_tgid, trace_hi = ks_random_id(seed, 1),
			trace_lo = ks_random_id(seed, 2),
			span = ks_random_id(seed, 3);
	struct ks_trace_ctx ctx;

	__builtin_memcpy(&ctx.trace_id[0], &trace_hi, 8);
	__builtin_memcpy(&ctx.trace_id[8], &trace_lo, 8);
	__builtin_memcpy(ctx.span_id, &span, 8);
	__builtin_memcpy(rec->trace_id, ctx.trace_id, sizeof(ctx.trace_id));
	__builtin_memcpy(rec->span_id, ctx.span_id, sizeof(ctx.span_id));
	rec->flags |= KS_SOCK_SPAN_STARTED;
	if (!ks_publish_trace_ctx)
		return;
	/* A request that never got an answer: its entry goes first. */
	ks_retract_trace_ctx(state);
	pid_tgid = bpf_get_current_pid_tgid();
	if (bpf_map_update_elem(&ks_traces_ctx, &pid_tgid, &ctx, BPF_ANY))
		return;
	state->published_pid_tgid = pid_tgid;
	__builtin_memcpy(state->published_span_id, ctx.span_id, 8);
	rec->flags |= KS_SOCK_SPAN_PUBLISHED;
}

/* "HTTP/1.x 1": a 100 Continue or another 1xx, not the response yet. */
static __always_inline bool ks_is_interim_response(const __u8 *data,
						   __u32 captured)
{
	return captured >= 10 && data[0] == 'H' && data[1] == 'T' &&
	       data[2] == 'T' && data[3] == 'P' && data[4] == '/' &&
	       data[5] == '1' && data[6] == '.' && data[8] == ' ' &&
	       data[9] == '1';
}

/*
 * A server connection alternates: the client's request, the server's
 * response.  The first read after a write (or the first read at all) starts
 * a request; the first write of the final response ends the thread's work
 * on it.  Pipelined requests read together share the first one's turn: the
 * agent, which parses, gives them ids of their own.
 */
static __always_inline void ks_server_turn(struct ks_sock_state *state,
					   struct ks_sock_data *rec,
					   const __u8 *data, __u32 captured)
{
	if (rec->direction == KS_SOCK_RECV) {
		if (state->last_direction != KS_SOCK_RECV)
			ks_start_server_span(state, rec);
		state->last_direction = KS_SOCK_RECV;
		return;
	}
	/* After a 100 Continue the body follows: still the same request. */
	if (ks_is_interim_response(data, captured))
		return;
	state->last_direction = KS_SOCK_SEND;
	ks_retract_trace_ctx(state);
}

/*
 * Where the system call that moved the bytes keeps them, from its number in
 * the saved registers.  Any other call (sendfile, splice, io_uring's
 * workers) is KS_BUF_NONE: nothing is copied, and it names no descriptor.
 */
static __always_inline enum ks_buffer_kind
ks_buffer_kind_of(const struct pt_regs *regs)
{
	switch (ks_regs_syscall_nr(regs)) {
	case KS_NR_READ:
	case KS_NR_WRITE:
	case KS_NR_RECVFROM:
	case KS_NR_SENDTO:
		return KS_BUF_PLAIN;
	case KS_NR_READV:
	case KS_NR_WRITEV:
		return KS_BUF_IOVEC;
	case KS_NR_RECVMSG:
	case KS_NR_SENDMSG:
		return KS_BUF_MSGHDR;
	default:
		return KS_BUF_NONE;
	}
}

/* The buffer a data syscall used, and at most how much of it counts. */
static __always_inline const void *
ks_first_buffer(const struct ks_syscall_args *args, enum ks_buffer_kind kind,
		__u64 *len)
{
	const struct user_msghdr *msg;
	const struct iovec *iov;
	struct iovec first;

	switch (kind) {
	case KS_BUF_PLAIN:
		return (const void *)args->arg[1];
	case KS_BUF_IOVEC:
		if (!args->arg[2])
			return NULL;
		iov = (const struct iovec *)args->arg[1];
		break;
	case KS_BUF_MSGHDR:
		msg = (const struct user_msghdr *)args->arg[1];
		if (bpf_probe_read_user(&iov, sizeof(iov), &msg->msg_iov) ||
		    !iov)
			return NULL;
		break;
	default:
		return NULL;
	}
	if (bpf_probe_read_user(&first, sizeof(first), iov))
		return NULL;
	if (*len > first.iov_len)
		*len = first.iov_len;
	return first.iov_base;
}

/* Where the first bytes the syscall moved are, and how many to copy. */
static __always_inline const void *
ks_capture_source(const struct ks_syscall_args *args, enum ks_buffer_kind kind,
		  long ret, __u64 *len)
{
	__u64 n = ret;
	const void *src = ks_first_buffer(args, kind, &n);

	if (!src)
		n = 0;
	if (n > ks_capture_bytes)
		n = ks_capture_bytes;
	*len = n;
	return src;
}

/*
 * A data record of class bytes after the struct, reserved in the ring
 * buffer, with the first *len (at most class) bytes at src copied straight
 * into it; *len becomes what was copied.
 */
static __always_inline struct ks_sock_data *
ks_sock_data_class(__u32 class, const void *src, __u64 *len)
{
	struct ks_sock_data *rec =
		bpf_ringbuf_reserve(&ks_events, sizeof(*rec) + class, 0);
	__u64 n = *len;

	if (!rec)
		return NULL;
	/*
	 * Already true, but the verifier, which checks the copy's bound,
	 * does not see the caller's test: said again, and kept.
	 */
	barrier_var(n);
	if (n > class)
		n = class;
	if (n && bpf_probe_read_user(rec + 1, n, src))
		n = 0;
	*len = n;
	ks_fill_header(&rec->hdr, sizeof(*rec) + class, KS_EV_SOCK_DATA,
		       bpf_ktime_get_ns(), bpf_get_current_pid_tgid());
	return rec;
}

/*
 * bpf_ringbuf_reserve() takes constant sizes only: a record is reserved in
 * the smallest of a few sizes its copy fits, and padded to it (hdr.size
 * says how long it is), so that the bytes are copied once, from the user's
 * buffer into the ring, rather than built elsewhere and copied again.
 */
static __always_inline struct ks_sock_data *
ks_sock_data_reserve(const void *src, __u64 *len)
{
	struct ks_sock_data *rec;

	if (*len <= 16)
		rec = ks_sock_data_class(16, src, len);
	else if (*len <= 128)
		rec = ks_sock_data_class(128, src, len);
	else if (*len <= 256)
		rec = ks_sock_data_class(256, src, len);
	else if (*len <= 512)
		rec = ks_sock_data_class(512, src, len);
	else if (*len <= 1024)
		rec = ks_sock_data_class(1024, src, len);
	else if (*len <= 2048)
		rec = ks_sock_data_class(2048, src, len);
	else
		rec = ks_sock_data_class(KS_SOCK_CAPTURE_MAX, src, len);
	ks_count_record(KS_EV_SOCK_DATA, rec);
	return rec;
}

/*
 * A socket call moved ret > 0 bytes on sk.  Cheapest tests first: the
 * socket's kind, the process, then one lookup of the socket.
 */
static __always_inline int ks_sock_data(bool typed, struct sock *sk, long ret,
					__u8 direction)
{
	struct ks_syscall_args args = {};
	enum ks_buffer_kind kind = KS_BUF_NONE;
	struct ks_sock_data *rec, lost = {};
	struct ks_sock_state *state;
	__u64 key = (__u64)sk;
	struct pt_regs *regs;
	const void *src;
	__u64 captured;

	if (!ks_is_tcp(typed, sk) || !ks_current_selected())
		return 0;
	state = bpf_map_lookup_elem(&ks_socks, &key);
	if (!state)
		state = ks_sock_track(sk, key, direction);
	if (!state)
		return 0;
	if (state->ignored) {
		ks_retract_trace_ctx(state);
		return 0;
	}
	regs = ks_current_regs();
	if (regs) {
		kind = ks_buffer_kind_of(regs);
		ks_args_of_regs(&args, regs);
	}
	src = ks_capture_source(&args, kind, ret, &captured);
	rec = ks_sock_data_reserve(src, &captured);
	if (!rec) {
		/* Lost to a full ring buffer, and counted: the turn still
		 * counts, or a published context would outlive its request. */
		if (state->role == KS_CONN_SERVER) {
			lost.direction = direction;
			ks_server_turn(state, &lost, NULL, 0);
		}
		return 0;
	}
	rec->conn_id = state->conn_id;
	rec->total_len = ret;
	rec->fd = kind == KS_BUF_NONE ? -1 : (__s32)args.arg[0];
	rec->captured_len = captured;
	rec->direction = direction;
	rec->flags = 0;
	__builtin_memset(rec->trace_id, 0, sizeof(rec->trace_id));
	__builtin_memset(rec->span_id, 0, sizeof(rec->span_id));
	if (state->role == KS_CONN_SERVER)
		ks_server_turn(state, rec, (const __u8 *)(rec + 1), captured);
	ks_submit(rec);
	return 0;
}

/* recv(MSG_PEEK) leaves the bytes for the next read: they count then. */
KS_TRACEPOINT(sock_recv_length, ks_sock_recv, struct sock *sk, int ret,
	      int flags)
{
	if (ret <= 0 || (flags & MSG_PEEK))
		return 0;
	return ks_sock_data(ks_typed, sk, ret, KS_SOCK_RECV);
}

KS_TRACEPOINT(sock_send_length, ks_sock_send, struct sock *sk, int ret,
	      int flags)
{
	if (ret <= 0)
		return 0;
	return ks_sock_data(ks_typed, sk, ret, KS_SOCK_SEND);
}

/*
 * The socket is freed: its connection ended.  Every descriptor of it was
 * closed by then (the socket outlives its last close by the FIN exchange),
 * and its address may be reused for another socket from now on.
 */
KS_TRACEPOINT(tcp_destroy_sock, ks_sock_destroy, struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct ks_sock_state *state = bpf_map_lookup_elem(&ks_socks, &key);
	struct ks_sock_close *e;

	if (!state)
		return 0;
	ks_retract_trace_ctx(state);
	if (!state->ignored) {
		e = ks_reserve(sizeof(*e), KS_EV_SOCK_CLOSE);
		if (e) {
			e->conn_id = state->conn_id;
			ks_submit(e);
		}
	}
	bpf_map_delete_elem(&ks_socks, &key);
	return 0;
}

/*
 * The agent's own connections (OTLP export): a watched collector's side of
 * them must not be traced, or every export would make spans that make
 * exports.  connect() sets SYN_SENT in the agent's own context, before the
 * local port is chosen; the handshake's end (ESTABLISHED, often in a
 * softirq) comes before the agent can send, so before the collector reads:
 * the local endpoint is known in time for ks_sock_track.  Every other state
 * change of the machine costs two comparisons.
 */
KS_TRACEPOINT(inet_sock_set_state, ks_sock_state_change, const struct sock *sk,
	      int oldstate, int newstate)
{
	struct ks_conn_tuple tuple;
	__u64 key = (__u64)sk;
	__u8 one = 1;

	if (newstate == KS_TCP_SYN_SENT) {
		if (bpf_get_current_pid_tgid() >> 32 == ks_agent_tgid)
			bpf_map_update_elem(&ks_agent_connecting, &key, &one,
					    BPF_ANY);
		return 0;
	}
	if (oldstate != KS_TCP_SYN_SENT ||
	    !bpf_map_lookup_elem(&ks_agent_connecting, &key))
		return 0;
	bpf_map_delete_elem(&ks_agent_connecting, &key);
	if (newstate != KS_TCP_ESTABLISHED)
		return 0;
	ks_read_tuple(sk, BPF_CORE_READ(sk, __sk_common.skc_family), &tuple);
	bpf_map_update_elem(&ks_agent_conns, &tuple.local, &one, BPF_ANY);
	return 0;
}
