/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Happens-before edges that pass through system calls: data written into a
 * pipe, a unix socket or an eventfd and read out on the other side, and a
 * child's exit collected by wait4()/waitid().  Called from the system call
 * hooks in syscalls.bpf.c.
 */
#ifndef KNOTSCOPE_IO_EDGES_BPF_H
#define KNOTSCOPE_IO_EDGES_BPF_H

#include "common.bpf.h"
#include "syscalls.bpf.h"

#define KS_AF_UNIX 1
#define KS_SOCK_STREAM 1
#define KS_MSG_PEEK 2
/*
 * Pipe buffers or socket buffers a count of what a stream object holds
 * walks at most; beyond, the count is not taken (the engine then goes by
 * the other counts).  A pipe of single-byte writes holds them in one page.
 */
#define KS_COUNT_MAX 16

static __always_inline bool ks_is_io_read(long nr)
{
	return nr == KS_NR_READ || nr == KS_NR_READV || nr == KS_NR_RECVFROM ||
	       nr == KS_NR_RECVMSG;
}

static __always_inline bool ks_is_io_write(long nr)
{
	return nr == KS_NR_WRITE || nr == KS_NR_WRITEV || nr == KS_NR_SENDTO ||
	       nr == KS_NR_SENDMSG;
}

/* Calls after which an fd number may name another file. */
static __always_inline bool ks_is_fd_change(long nr)
{
#if defined(__TARGET_ARCH_x86)
	if (nr == KS_NR_DUP2)
		return true;
#endif
	return nr == KS_NR_CLOSE || nr == KS_NR_DUP3;
}

/*
 * The cache key names an fd of one program image: exec closes some fds
 * without a close() call, and bumps self_exec_id.
 */
static __always_inline void ks_fd_key(struct ks_fd_key *key, int fd)
{
	key->tgid = bpf_get_current_pid_tgid() >> 32;
	key->fd = fd;
	key->exec_id = ks_current_exec_id();
}

static __always_inline bool ks_is_eventfd(struct file *file)
{
	static const char eventfd[] = "[eventfd]";
	char name[sizeof(eventfd)] = {};

	/* Anonymous inodes have no file type; the dentry says what it is. */
	bpf_probe_read_kernel(name, sizeof(name) - 1,
			      BPF_CORE_READ(file, f_path.dentry, d_name.name));
	/* A loop the compiler unrolls: BPF has no memcmp to call. */
	for (int i = 0; i < sizeof(eventfd) - 1; i++)
		if (name[i] != eventfd[i])
			return false;
	return true;
}

/* What an fd of the current task is, for the edges: usually nothing. */
static __always_inline void ks_classify_fd(int fd, struct ks_fd_class *out)
{
	struct file *file =
		ks_file_of_fd((struct task_struct *)bpf_get_current_task(), fd);
	struct sock *sk;
	void *private;
	__u16 mode;

	__builtin_memset(out, 0, sizeof(*out));
	if (!file)
		return;
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	private = BPF_CORE_READ(file, private_data);
	switch (mode & KS_S_IFMT) {
	case KS_S_IFIFO:
		/* Both ends of a pipe share its pipe_inode_info and inode. */
		out->kind = KS_IO_PIPE;
		out->flags = KS_IO_STREAM;
		out->object = (__u64) private;
		out->inode = BPF_CORE_READ(file, f_inode, i_ino);
		break;
	case KS_S_IFSOCK:
		sk = BPF_CORE_READ((struct socket *)private, sk);
		if (BPF_CORE_READ(sk, __sk_common.skc_family) != KS_AF_UNIX)
			break;
		out->kind = KS_IO_UNIX;
		/* Datagrams and records keep their boundaries: no stream. */
		if (BPF_CORE_READ(sk, sk_type) == KS_SOCK_STREAM)
			out->flags = KS_IO_STREAM;
		out->object = (__u64)sk;
		/* The socket's inode: what ks_sock_inode() reads from sk. */
		out->inode = BPF_CORE_READ(file, f_inode, i_ino);
		break;
	case 0:
		if (ks_is_eventfd(file)) {
			out->kind = KS_IO_EVENTFD;
			out->object = (__u64) private;
		}
		break;
	}
}

/*
 * The inode of the socket sk belongs to: the kernel allocates the two
 * together (struct socket_alloc).  0 once sk is orphaned (closed).
 */
static __always_inline __u32 ks_sock_inode(struct sock *sk)
{
	struct socket *sock = BPF_CORE_READ(sk, sk_socket);

	if (!sock)
		return 0;
	return BPF_CORE_READ((struct socket_alloc *)sock, vfs_inode.i_ino);
}

/* After close(fd) or dup2/dup3(old, fd): the number names another file. */
static __always_inline int ks_io_fd_changed(long fd)
{
	struct ks_fd_key key = {};

	if (!ks_current_selected())
		return 0;
	ks_fd_key(&key, (int)fd);
	bpf_map_delete_elem(&ks_fd_classes, &key);
	return 0;
}

/*
 * What the fd in the first argument is, through the cache.  The object a
 * unix socket's write moves data into is its peer's, where reads happen.
 */
static __always_inline bool ks_io_class(long fd, bool write,
					struct ks_fd_class *class)
{
	struct ks_fd_class *cached;
	struct ks_fd_key key = {};

	ks_fd_key(&key, (int)fd);
	/*
	 * A copy, not a pointer that is either the map's value or a local:
	 * the verifier rejects arithmetic on a pointer it cannot tell apart.
	 */
	cached = bpf_map_lookup_elem(&ks_fd_classes, &key);
	if (cached) {
		*class = *cached;
	} else {
		ks_classify_fd(key.fd, class);
		bpf_map_update_elem(&ks_fd_classes, &key, class, BPF_ANY);
	}
	if (!class->kind)
		return false;
	if (class->kind == KS_IO_UNIX && write) {
		/* Not inside BPF_CORE_READ: ks_fd_class is not the kernel's. */
		struct unix_sock *sock = (void *)class->object;

		struct sock *peer = BPF_CORE_READ(sock, peer);

		class->object = (__u64)peer;
		if (!peer)
			return false; /* unconnected datagram socket */
		class->inode = ks_sock_inode(peer);
		return true;
	}
	return true;
}

/* What a record says of its object, besides the bytes moved. */
struct ks_io_about {
	__u64 object;
	__u32 inode;
	int fd;
	__u8 kind;
	__u8 flags;
};

static __always_inline void ks_io_emit(__u64 begin_ns,
				       const struct ks_io_about *about,
				       __u64 bytes, __u8 op, __u64 pending)
{
	struct ks_io *e = ks_reserve(sizeof(*e), KS_EV_IO);

	if (!e)
		return;
	e->object = about->object;
	e->bytes = bytes;
	e->begin_ns = begin_ns ? begin_ns : e->hdr.ts_ns;
	e->fd = about->fd;
	e->kind = about->kind;
	e->op = op;
	e->flags = about->flags;
	e->_pad0 = 0;
	e->inode = about->inode;
	e->_pad1 = 0;
	e->pending = pending;
	ks_submit(e);
}

static __always_inline __u64 ks_read_once_u64(const __u64 *p)
{
	return *(const volatile __u64 *)p;
}

/* Bytes a pipe holds: its buffers from tail to head. */
static __always_inline bool ks_pipe_pending(struct pipe_inode_info *pipe,
					    __u64 *pending)
{
	unsigned int head, tail, mask;
	struct pipe_buffer *bufs;
	__u64 sum = 0;

	if (!bpf_core_field_exists(pipe->head))
		return false; /* before 5.5: another layout */
	head = BPF_CORE_READ(pipe, head);
	tail = BPF_CORE_READ(pipe, tail);
	mask = BPF_CORE_READ(pipe, ring_size) - 1;
	bufs = BPF_CORE_READ(pipe, bufs);
	if (head - tail > KS_COUNT_MAX)
		return false;
	for (int i = 0; i < KS_COUNT_MAX; i++) {
		if (tail + i == head)
			break;
		sum += BPF_CORE_READ(bufs + ((tail + i) & mask), len);
	}
	*pending = sum;
	return true;
}

/* Bytes in a unix stream socket's receive buffers, not yet read. */
static __always_inline bool ks_unix_walk_pending(struct sock *sk,
						 __u64 *pending)
{
	struct sk_buff *end = (struct sk_buff *)&sk->sk_receive_queue;
	struct sk_buff *skb = BPF_CORE_READ(sk, sk_receive_queue.next);
	/* UNIXCB(skb).consumed: what reads took of the buffer already. */
	__u32 consumed_at =
		bpf_core_field_offset(struct sk_buff, cb) +
		bpf_core_field_offset(struct unix_skb_parms, consumed);
	__u64 sum = 0;

	for (int i = 0; i < KS_COUNT_MAX; i++) {
		__u32 consumed = 0;

		if (skb == end) {
			*pending = sum;
			return true;
		}
		if (!skb)
			return false;
		bpf_probe_read_kernel(&consumed, sizeof(consumed),
				      (void *)skb + consumed_at);
		sum += BPF_CORE_READ(skb, len) - consumed;
		skb = BPF_CORE_READ(skb, next);
	}
	return false;
}

/*
 * Bytes a unix stream socket's receive queue holds, not yet read: the
 * socket's own count where the kernel keeps one (6.17+, for SO_INQ), else
 * its buffers, walked.
 */
static __always_inline bool ks_unix_pending(struct sock *sk, __u64 *pending)
{
	struct unix_sock *unix_sock = (struct unix_sock *)sk;

	if (bpf_core_field_exists(unix_sock->inq_len)) {
		int inq = BPF_CORE_READ(unix_sock, inq_len);

		*pending = inq > 0 ? inq : 0;
		return inq >= 0;
	}
	return ks_unix_walk_pending(sk, pending);
}

/*
 * The state of a stream object, made when first used if make is not NULL
 * (*make says whether it was).  NULL: none.
 */
static __always_inline struct ks_stream_state *
ks_stream_state(const struct ks_io_about *about, bool *make)
{
	struct ks_stream_key key = { .object = about->object,
				     .inode = about->inode };
	struct ks_stream_state *state, fresh = {};

	state = bpf_map_lookup_elem(&ks_streams, &key);
	if (state || !make)
		return state;
	*make = true;
	fresh.seq = bpf_ktime_get_ns();
	bpf_map_update_elem(&ks_streams, &key, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&ks_streams, &key);
}

/*
 * KS_IO_COUNTED and what the stream object holds, in *pending, when no
 * read of it but the caller's own (readers: 0 or 1) ran meanwhile: the
 * kernel moves bytes out under the object's lock, which BPF cannot take,
 * so a count is good only when no read could have moved any while it was
 * taken.  Writes may append meanwhile: the engine knows which were in
 * flight, and that a count then only bounds what the object holds.
 */
static __always_inline __u8 ks_stream_count(const struct ks_io_about *about,
					    struct ks_stream_state *state,
					    __s64 readers, __u64 *pending)
{
	__u64 seq = ks_read_once_u64(&state->seq);
	bool counted;

	if (*(volatile __s64 *)&state->readers != readers)
		return 0;
	if (about->kind == KS_IO_PIPE)
		counted = ks_pipe_pending((void *)about->object, pending);
	else
		counted = ks_unix_pending((void *)about->object, pending);
	if (!counted || ks_read_once_u64(&state->seq) != seq ||
	    *(volatile __s64 *)&state->readers != readers)
		return 0;
	return KS_IO_COUNTED;
}

static __always_inline void ks_io_about_class(struct ks_io_about *about,
					      const struct ks_fd_class *class,
					      int fd)
{
	about->object = class->object;
	about->inode = class->inode;
	about->fd = fd;
	about->kind = class->kind;
	about->flags = class->flags;
}

/*
 * The thread's slot for its read or stream write in progress, made once
 * and then written in place: an update or a delete per call would cost
 * more than the rest together.
 */
static __always_inline struct ks_io_inflight *ks_io_slot(__u32 tid)
{
	struct ks_io_inflight *inflight, fresh = {};

	inflight = bpf_map_lookup_elem(&ks_io_inflight, &tid);
	if (inflight)
		return inflight;
	bpf_map_update_elem(&ks_io_inflight, &tid, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&ks_io_inflight, &tid);
}

static __always_inline void ks_io_slot_fill(struct ks_io_inflight *inflight,
					    const struct ks_io_about *about,
					    __u8 op, __u64 seq)
{
	inflight->object = about->object;
	inflight->inode = about->inode;
	inflight->fd = about->fd;
	inflight->kind = about->kind;
	inflight->flags = about->flags;
	inflight->op = op;
	inflight->seq = seq;
	inflight->begin_ns = bpf_ktime_get_ns();
}

static __always_inline void ks_io_about_slot(struct ks_io_about *about,
					     const struct ks_io_inflight *slot)
{
	about->object = slot->object;
	about->inode = slot->inode;
	about->fd = slot->fd;
	about->kind = slot->kind;
	about->flags = slot->flags;
}

/*
 * A write is a release: recorded at entry, so that it sorts before any
 * read its data can end.  sized: the third argument is the byte count.
 * A stream's write is recorded at its return too (ks_io_write_exit): how
 * much it appended decides which reads return its bytes.
 */
static __always_inline int ks_io_write_enter(const struct ks_syscall_args *args,
					     bool sized)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ks_io_inflight *inflight;
	struct ks_stream_state *state;
	struct ks_fd_class class;
	struct ks_io_about about;
	__u64 pending = 0;
	bool made = false;

	if (!ks_current_selected() || !ks_io_class(args->arg[0], true, &class))
		return 0;
	ks_io_about_class(&about, &class, (int)args->arg[0]);
	if (about.flags & KS_IO_STREAM) {
		inflight = ks_io_slot(tid);
		state = ks_stream_state(&about, &made);
		if (!inflight || !state) {
			about.flags &= ~KS_IO_STREAM; /* no return: a channel */
		} else {
			ks_io_slot_fill(inflight, &about, KS_IO_WRITE, 0);
			about.flags |=
				ks_stream_count(&about, state, 0, &pending);
		}
	}
	ks_io_emit(0, &about, sized ? args->arg[2] : 0, KS_IO_WRITE, pending);
	return 0;
}

/* A stream write returned: what it appended, and what the object holds. */
static __always_inline int ks_io_write_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ks_io_inflight *inflight;
	struct ks_stream_state *state;
	struct ks_io_about about;
	__u64 begin_ns, pending = 0;

	inflight = bpf_map_lookup_elem(&ks_io_inflight, &tid);
	if (!inflight || !inflight->begin_ns || inflight->op != KS_IO_WRITE)
		return 0;
	begin_ns = inflight->begin_ns;
	inflight->begin_ns = 0;
	ks_io_about_slot(&about, inflight);
	state = ks_stream_state(&about, NULL);
	if (state)
		about.flags |= ks_stream_count(&about, state, 0, &pending);
	ks_io_emit(begin_ns, &about, ret > 0 ? ret : 0, KS_IO_WROTE, pending);
	return 0;
}

/*
 * A read only starts its clock here; it acquires at its return, when it
 * got data.  A stream read counts itself among the object's readers, so
 * that reads that ran at the same time know it.  recv_flags: a recv's
 * flags argument, 0 for the other calls.
 */
static __always_inline int ks_io_read_enter(const struct ks_syscall_args *args,
					    unsigned long recv_flags)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ks_io_inflight *inflight;
	struct ks_stream_state *state;
	struct ks_fd_class class;
	struct ks_io_about about;
	__u64 seq = 0, pending = 0;
	bool made = false;

	if (!ks_current_selected() || !ks_io_class(args->arg[0], false, &class))
		return 0;
	inflight = ks_io_slot(tid);
	if (!inflight)
		return 0;
	ks_io_about_class(&about, &class, (int)args->arg[0]);
	if (recv_flags & KS_MSG_PEEK)
		about.flags |= KS_IO_PEEK;
	if (about.flags & KS_IO_STREAM) {
		state = ks_stream_state(&about, &made);
		if (!state) {
			about.flags |= KS_IO_OVERLAPPED;
		} else {
			if (__sync_fetch_and_add(&state->readers, 1))
				about.flags |= KS_IO_OVERLAPPED;
			seq = __sync_fetch_and_add(&state->seq, 1) + 1;
		}
		/*
		 * First seen by a read (a reader that waits before anyone
		 * writes): what the object holds from before, counted now,
		 * puts the engine in step before the writes it will return.
		 */
		if (made && !(about.flags & KS_IO_OVERLAPPED)) {
			struct ks_io_about counted = about;

			counted.flags |=
				ks_stream_count(&about, state, 1, &pending);
			if (counted.flags & KS_IO_COUNTED)
				ks_io_emit(0, &counted, 0, KS_IO_COUNT,
					   pending);
		}
	}
	ks_io_slot_fill(inflight, &about, KS_IO_READ, seq);
	return 0;
}

/*
 * A stream read leaves the object's readers; it ran alone if the
 * sequence did not move since its entry.  Counted before it leaves.
 */
static __always_inline __u8 ks_stream_read_done(const struct ks_io_about *about,
						__u64 seq, bool returned_data,
						__u64 *pending)
{
	struct ks_stream_state *state = ks_stream_state(about, NULL);
	__u8 flags = 0;

	if (!state)
		return KS_IO_OVERLAPPED; /* evicted while it ran */
	if (ks_read_once_u64(&state->seq) != seq)
		flags = KS_IO_OVERLAPPED;
	else if (returned_data)
		flags = ks_stream_count(about, state, 1, pending);
	__sync_fetch_and_add(&state->readers, -1);
	__sync_fetch_and_add(&state->seq, 1);
	return flags;
}

static __always_inline int ks_io_read_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ks_io_inflight *inflight;
	struct ks_io_about about;
	__u64 begin_ns, pending = 0;

	inflight = bpf_map_lookup_elem(&ks_io_inflight, &tid);
	if (!inflight || !inflight->begin_ns || inflight->op != KS_IO_READ)
		return 0;
	begin_ns = inflight->begin_ns;
	inflight->begin_ns = 0;
	ks_io_about_slot(&about, inflight);
	/* seq 0: it never joined the readers (not a stream, or no state). */
	if (inflight->seq)
		about.flags |= ks_stream_read_done(&about, inflight->seq,
						   ret > 0, &pending);
	if (ret > 0)
		ks_io_emit(begin_ns, &about, ret, KS_IO_READ, pending);
	return 0;
}

/* A thread that dies inside a stream read leaves its readers. */
static __always_inline void ks_io_thread_gone(__u32 tid)
{
	struct ks_io_inflight *inflight;
	struct ks_io_about about;
	__u64 pending;

	inflight = bpf_map_lookup_elem(&ks_io_inflight, &tid);
	if (inflight && inflight->begin_ns && inflight->op == KS_IO_READ &&
	    inflight->seq) {
		ks_io_about_slot(&about, inflight);
		ks_stream_read_done(&about, inflight->seq, false, &pending);
	}
	bpf_map_delete_elem(&ks_io_inflight, &tid);
}

/*
 * eventfd2() returned fd, a new eventfd: what its object was named by
 * before is another eventfd's, gone.  Paid by eventfd creations only.
 */
static __always_inline int ks_io_eventfd_made(long fd)
{
	struct file *file;

	if (fd < 0 || !ks_current_selected())
		return 0;
	file = ks_file_of_fd((struct task_struct *)bpf_get_current_task(),
			     (int)fd);
	if (file) {
		struct ks_io_about about = {
			.object = (__u64)BPF_CORE_READ(file, private_data),
			.fd = (int)fd,
			.kind = KS_IO_EVENTFD,
		};

		ks_io_emit(0, &about, 0, KS_IO_MADE, 0);
	}
	return 0;
}

static __always_inline int ks_reaped_sys_exit(struct pt_regs *regs, bool waitid,
					      long ret)
{
	/* siginfo_t.si_pid: after si_signo, si_errno, si_code and padding. */
	const __u32 si_pid_offset = 16;
	struct ks_reaped *e;
	__u32 child = 0;

	if (ret < 0 || !ks_current_selected())
		return 0;
	if (!waitid) {
		child = ret;
	} else if (ret == 0) {
		void *infop = (void *)KS_SYSCALL_ARG3_CORE(regs);

		if (infop)
			bpf_probe_read_user(&child, sizeof(child),
					    infop + si_pid_offset);
	}
	if (!child)
		return 0; /* WNOHANG with nothing to collect */
	e = ks_reserve(sizeof(*e), KS_EV_REAPED);
	if (!e)
		return 0;
	e->child_tgid = child;
	e->_pad0 = 0;
	ks_submit(e);
	return 0;
}

#endif /* KNOTSCOPE_IO_EDGES_BPF_H */
