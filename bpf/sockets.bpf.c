// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TCP connections of the watched processes, for HTTP spans (--http): the
 * accept() or connect() that makes one, each read and write on it (how many
 * bytes, and a copy of the first ks_capture_bytes of them), and the close()
 * of its descriptor.  What the bytes mean is the agent's business.
 *
 * Only the exits of these calls are hooked (the arguments are still in the
 * saved registers there), each on its own (KS_SYSCALL_EXIT_REGS), or all
 * through the generic sys_exit hook, which switches on the syscall number.
 * A call that moved data costs one hash lookup of (tgid, fd): only
 * descriptors this file saw accepted or connected, by a watched process,
 * are in ks_socks, so files, pipes and unwatched processes stop there,
 * before anything is copied.
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
#define EINPROGRESS 115
#define MSG_PEEK 2

/* Where a data syscall keeps the bytes it moved. */
enum ks_buffer_kind {
	KS_BUF_NONE, /* sendfile: the bytes come from a file, unseen */
	KS_BUF_PLAIN, /* read, write, recvfrom, sendto: a buffer */
	KS_BUF_IOVEC, /* readv, writev: an array of iovecs */
	KS_BUF_MSGHDR, /* recvmsg, sendmsg: a msghdr pointing at iovecs */
};

/* Unique for the run; 0 never names a connection. */
static __u64 ks_next_conn_id;

static __always_inline struct ks_sock_key ks_sock_key_of(long fd)
{
	struct ks_sock_key key = {
		.tgid = bpf_get_current_pid_tgid() >> 32,
		.fd = (__s32)fd,
	};

	return key;
}

/* The TCP socket behind a descriptor of task, or NULL. */
static __always_inline struct sock *ks_tcp_sock_of(struct task_struct *task,
						   int fd)
{
	struct file *file = ks_file_of_fd(task, fd);
	struct socket *socket;
	struct sock *sk;
	__u16 family;

	if (!file)
		return NULL;
	/* private_data is a struct socket only for socket inodes. */
	if ((BPF_CORE_READ(file, f_inode, i_mode) & KS_S_IFMT) != KS_S_IFSOCK)
		return NULL;
	socket = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(socket, sk);
	if (!sk || BPF_CORE_READ(sk, sk_type) != SOCK_STREAM ||
	    BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return NULL;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	return family == AF_INET || family == AF_INET6 ? sk : NULL;
}

static __always_inline void ks_ipv4_mapped(__u8 addr[16], __be32 ipv4)
{
	__builtin_memset(addr, 0, 10);
	addr[10] = 0xff;
	addr[11] = 0xff;
	__builtin_memcpy(&addr[12], &ipv4, sizeof(ipv4));
}

static __always_inline void ks_read_tuple(struct sock *sk, __u16 family,
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

/* The agent's own connection: remember its end, trace nothing. */
static __always_inline int ks_note_agent_conn(struct task_struct *task, int fd)
{
	struct sock *sk = ks_tcp_sock_of(task, fd);
	struct ks_conn_tuple tuple;
	__u8 one = 1;

	if (!sk)
		return 0;
	ks_read_tuple(sk, BPF_CORE_READ(sk, __sk_common.skc_family), &tuple);
	bpf_map_update_elem(&ks_agent_conns, &tuple.local, &one, BPF_ANY);
	return 0;
}

static __always_inline int ks_sock_opened(int fd, __u8 role)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct ks_sock_key key = ks_sock_key_of(fd);
	struct ks_sock_state state = {
		.role = role,
		.exec_id = BPF_CORE_READ(task, self_exec_id),
	};
	struct ks_sock_state *old;
	struct ks_cpu_stats *stats;
	struct ks_sock_open *e;
	struct sock *sk;
	__u16 family;

	if (key.tgid == ks_agent_tgid)
		return role == KS_CONN_CLIENT ? ks_note_agent_conn(task, fd) :
						0;
	if (!ks_task_selected(task))
		return 0;
	sk = ks_tcp_sock_of(task, fd);
	if (!sk)
		return 0;
	e = ks_reserve(sizeof(*e), KS_EV_SOCK_OPEN);
	if (!e)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	ks_read_tuple(sk, family, &e->tuple);
	if (role == KS_CONN_SERVER &&
	    bpf_map_lookup_elem(&ks_agent_conns, &e->tuple.remote)) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return 0;
	}
	state.conn_id = __sync_fetch_and_add(&ks_next_conn_id, 1) + 1;
	state.sk = (__u64)sk;
	/* The number's last connection closed unseen (close_range): its
	 * published entry goes with it. */
	old = bpf_map_lookup_elem(&ks_socks, &key);
	if (old)
		ks_retract_trace_ctx(old);
	if (bpf_map_update_elem(&ks_socks, &key, &state, BPF_ANY)) {
		stats = ks_cpu_stats();
		if (stats)
			__sync_fetch_and_add(&stats->socks_full, 1);
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return 0;
	}
	e->conn_id = state.conn_id;
	e->fd = fd;
	e->role = role;
	e->family = (__u8)family;
	e->_pad0 = 0;
	ks_submit(e);
	return 0;
}

/* W3C Trace Context ids are random and never all zero. */
static __always_inline __u64 ks_random_u64(void)
{
	__u64 v = ((__u64)bpf_get_prandom_u32() << 32) | bpf_get_prandom_u32();

	return v ? v : 1;
}

/* The read that starts a request: its span's ids, published for profilers. */
static __always_inline void ks_start_server_span(struct ks_sock_state *state,
						 struct ks_sock_data *rec)
{
	struct ks_trace_ctx ctx;
	__u64 pid_tgid, trace_hi = ks_random_u64(), trace_lo = ks_random_u64(),
			span = ks_random_u64();

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
					   struct ks_sock_scratch *scratch,
					   __u32 captured)
{
	struct ks_sock_data *rec = &scratch->record;

	if (rec->direction == KS_SOCK_RECV) {
		if (state->last_direction != KS_SOCK_RECV)
			ks_start_server_span(state, rec);
		state->last_direction = KS_SOCK_RECV;
		return;
	}
	/* After a 100 Continue the body follows: still the same request. */
	if (ks_is_interim_response(scratch->data, captured))
		return;
	state->last_direction = KS_SOCK_SEND;
	ks_retract_trace_ctx(state);
}

/* The buffer a data syscall used, and at most how much of it counts. */
static __always_inline const void *
ks_first_buffer(struct pt_regs *regs, enum ks_buffer_kind kind, __u64 *len)
{
	const struct user_msghdr *msg;
	const struct iovec *iov;
	struct iovec first;

	switch (kind) {
	case KS_BUF_PLAIN:
		return (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs);
	case KS_BUF_IOVEC:
		if (!PT_REGS_PARM3_CORE_SYSCALL(regs))
			return NULL;
		iov = (const struct iovec *)PT_REGS_PARM2_CORE_SYSCALL(regs);
		break;
	case KS_BUF_MSGHDR:
		msg = (const struct user_msghdr *)PT_REGS_PARM2_CORE_SYSCALL(
			regs);
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

/* Copies the first bytes the syscall moved into scratch; how many. */
static __always_inline __u32 ks_capture(struct pt_regs *regs,
					enum ks_buffer_kind kind, long ret,
					struct ks_sock_scratch *scratch)
{
	__u64 len = ret;
	const void *src = ks_first_buffer(regs, kind, &len);

	if (!src)
		return 0;
	if (len > ks_capture_bytes)
		len = ks_capture_bytes;
	/*
	 * The verifier does not trust a bound read from .rodata to hold
	 * the copy inside the scratch buffer: this one it can see.
	 */
	if (len > KS_SOCK_CAPTURE_MAX)
		len = KS_SOCK_CAPTURE_MAX;
	if (bpf_probe_read_user(scratch->data, len, src))
		return 0;
	return len;
}

/*
 * The state of a tracked descriptor of the current process, or NULL.  A
 * state from before an exec is stale: the descriptor may have been closed
 * on exec and reused for a file, whose bytes must not be copied.
 */
static __always_inline struct ks_sock_state *ks_tracked(struct ks_sock_key *key)
{
	struct ks_sock_state *state = bpf_map_lookup_elem(&ks_socks, key);
	struct task_struct *task;

	if (!state)
		return NULL;
	task = (struct task_struct *)bpf_get_current_task();
	if (state->exec_id == (__u32)BPF_CORE_READ(task, self_exec_id))
		return state;
	bpf_map_delete_elem(&ks_socks, key);
	return NULL;
}

static __always_inline int ks_sock_data(struct pt_regs *regs, long ret,
					__u8 direction,
					enum ks_buffer_kind kind)
{
	struct ks_sock_key key;
	struct ks_sock_state *state;
	struct ks_sock_scratch *scratch;
	struct ks_sock_data *rec;
	__u32 zero = 0, captured;

	if (ret <= 0)
		return 0;
	key = ks_sock_key_of(PT_REGS_PARM1_CORE_SYSCALL(regs));
	state = ks_tracked(&key);
	if (!state)
		return 0;
	scratch = bpf_map_lookup_elem(&ks_sock_scratch, &zero);
	if (!scratch)
		return 0;
	rec = &scratch->record;
	captured = ks_capture(regs, kind, ret, scratch);
	rec->conn_id = state->conn_id;
	rec->total_len = ret;
	rec->fd = key.fd;
	rec->captured_len = captured;
	rec->direction = direction;
	rec->flags = 0;
	__builtin_memset(rec->trace_id, 0, sizeof(rec->trace_id));
	__builtin_memset(rec->span_id, 0, sizeof(rec->span_id));
	if (state->role == KS_CONN_SERVER)
		ks_server_turn(state, scratch, captured);
	ks_output(rec, sizeof(*rec) + captured, KS_EV_SOCK_DATA);
	return 0;
}

/* recv(MSG_PEEK) leaves the bytes for the next read: they count then. */
static __always_inline bool ks_peeked(long flags)
{
	return flags & MSG_PEEK;
}

/*
 * After close(), or a dup2()/dup3() that closed its target.  By now another
 * thread may have reused the number (accept) and tracked a new connection
 * under it: that one's socket is in the descriptor table, and stays.
 */
static __always_inline int ks_sock_closed(int fd)
{
	struct ks_sock_key key = ks_sock_key_of(fd);
	struct ks_sock_state *state = bpf_map_lookup_elem(&ks_socks, &key);
	struct task_struct *task;
	struct ks_sock_close *e;

	if (!state)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	if (state->exec_id == (__u32)BPF_CORE_READ(task, self_exec_id) &&
	    (__u64)ks_tcp_sock_of(task, fd) == state->sk)
		return 0;
	ks_retract_trace_ctx(state);
	e = ks_reserve(sizeof(*e), KS_EV_SOCK_CLOSE);
	if (e) {
		e->conn_id = state->conn_id;
		e->fd = fd;
		e->_pad0 = 0;
		ks_submit(e);
	}
	bpf_map_delete_elem(&ks_socks, &key);
	return 0;
}

static __always_inline int ks_recvfrom_exit(struct pt_regs *regs, long ret)
{
	if (ks_peeked(PT_REGS_PARM4_CORE_SYSCALL(regs)))
		return 0;
	return ks_sock_data(regs, ret, KS_SOCK_RECV, KS_BUF_PLAIN);
}

static __always_inline int ks_recvmsg_exit(struct pt_regs *regs, long ret)
{
	if (ks_peeked(PT_REGS_PARM3_CORE_SYSCALL(regs)))
		return 0;
	return ks_sock_data(regs, ret, KS_SOCK_RECV, KS_BUF_MSGHDR);
}

static __always_inline int ks_accepted(long ret)
{
	return ret >= 0 ? ks_sock_opened(ret, KS_CONN_SERVER) : 0;
}

static __always_inline int ks_connected(struct pt_regs *regs, long ret)
{
	/* A non-blocking connect has its local port already. */
	return ret == 0 || ret == -EINPROGRESS ?
		       ks_sock_opened(PT_REGS_PARM1_CORE_SYSCALL(regs),
				      KS_CONN_CLIENT) :
		       0;
}

/* Released even when close() fails, but for EBADF. */
static __always_inline int ks_close_exit(struct pt_regs *regs)
{
	return ks_sock_closed(PT_REGS_PARM1_CORE_SYSCALL(regs));
}

static __always_inline int ks_dup_exit(long ret)
{
	return ret >= 0 ? ks_sock_closed(ret) : 0;
}

/* A call that moved data: which way, and where its buffer is. */
#define KS_SOCK_DATA(sc, direction, buffer)                        \
	KS_SYSCALL_EXIT_REGS(sc, ks_sock_##sc)                     \
	{                                                          \
		return ks_sock_data(regs, ret, direction, buffer); \
	}

KS_SOCK_DATA(read, KS_SOCK_RECV, KS_BUF_PLAIN)
KS_SOCK_DATA(readv, KS_SOCK_RECV, KS_BUF_IOVEC)
KS_SOCK_DATA(write, KS_SOCK_SEND, KS_BUF_PLAIN)
KS_SOCK_DATA(sendto, KS_SOCK_SEND, KS_BUF_PLAIN)
KS_SOCK_DATA(writev, KS_SOCK_SEND, KS_BUF_IOVEC)
KS_SOCK_DATA(sendmsg, KS_SOCK_SEND, KS_BUF_MSGHDR)
KS_SOCK_DATA(sendfile64, KS_SOCK_SEND, KS_BUF_NONE)

KS_SYSCALL_EXIT_REGS(recvfrom, ks_sock_recvfrom)
{
	return ks_recvfrom_exit(regs, ret);
}

KS_SYSCALL_EXIT_REGS(recvmsg, ks_sock_recvmsg)
{
	return ks_recvmsg_exit(regs, ret);
}

KS_SYSCALL_EXIT(accept, ks_sock_accept)
{
	return ks_accepted(ret);
}

KS_SYSCALL_EXIT(accept4, ks_sock_accept4)
{
	return ks_accepted(ret);
}

KS_SYSCALL_EXIT_REGS(connect, ks_sock_connect)
{
	return ks_connected(regs, ret);
}

KS_SYSCALL_EXIT_REGS(close, ks_sock_close)
{
	return ks_close_exit(regs);
}

#ifdef KS_NR_DUP2
KS_SYSCALL_EXIT(dup2, ks_sock_dup2)
{
	return ks_dup_exit(ret);
}
#endif

KS_SYSCALL_EXIT(dup3, ks_sock_dup3)
{
	return ks_dup_exit(ret);
}

KS_TRACEPOINT(sys_exit, ks_sock_exit, struct pt_regs *regs, long ret)
{
	switch (ks_syscall_nr(regs)) {
	case KS_NR_RECVFROM:
		return ks_recvfrom_exit(regs, ret);
	case KS_NR_READ:
		return ks_sock_data(regs, ret, KS_SOCK_RECV, KS_BUF_PLAIN);
	case KS_NR_READV:
		return ks_sock_data(regs, ret, KS_SOCK_RECV, KS_BUF_IOVEC);
	case KS_NR_RECVMSG:
		return ks_recvmsg_exit(regs, ret);
	case KS_NR_WRITE:
	case KS_NR_SENDTO:
		return ks_sock_data(regs, ret, KS_SOCK_SEND, KS_BUF_PLAIN);
	case KS_NR_WRITEV:
		return ks_sock_data(regs, ret, KS_SOCK_SEND, KS_BUF_IOVEC);
	case KS_NR_SENDMSG:
		return ks_sock_data(regs, ret, KS_SOCK_SEND, KS_BUF_MSGHDR);
	case KS_NR_SENDFILE:
		return ks_sock_data(regs, ret, KS_SOCK_SEND, KS_BUF_NONE);
	case KS_NR_ACCEPT:
	case KS_NR_ACCEPT4:
		return ks_accepted(ret);
	case KS_NR_CONNECT:
		return ks_connected(regs, ret);
	case KS_NR_CLOSE:
		return ks_close_exit(regs);
#ifdef KS_NR_DUP2
	case KS_NR_DUP2:
#endif
	case KS_NR_DUP3:
		return ks_dup_exit(ret);
	}
	return 0;
}
