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
		out->object = (__u64) private;
		out->inode = BPF_CORE_READ(file, f_inode, i_ino);
		break;
	case KS_S_IFSOCK:
		sk = BPF_CORE_READ((struct socket *)private, sk);
		if (BPF_CORE_READ(sk, __sk_common.skc_family) != KS_AF_UNIX)
			break;
		out->kind = KS_IO_UNIX;
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

static __always_inline void ks_io_emit(__u64 begin_ns, __u64 object,
				       __u32 inode, __u64 bytes, int fd,
				       __u8 kind, __u8 op)
{
	struct ks_io *e = ks_reserve(sizeof(*e), KS_EV_IO);

	if (!e)
		return;
	e->object = object;
	e->bytes = bytes;
	e->begin_ns = begin_ns ? begin_ns : e->hdr.ts_ns;
	e->fd = fd;
	e->kind = kind;
	e->op = op;
	e->_pad0 = 0;
	e->inode = inode;
	e->_pad1 = 0;
	ks_submit(e);
}

/*
 * A write is a release: recorded at entry, so that it sorts before any
 * read its data can end.  sized: the third argument is the byte count.
 */
static __always_inline int ks_io_write_enter(const struct ks_syscall_args *args,
					     bool sized)
{
	struct ks_fd_class class;

	if (!ks_current_selected() || !ks_io_class(args->arg[0], true, &class))
		return 0;
	ks_io_emit(0, class.object, class.inode, sized ? args->arg[2] : 0,
		   (int)args->arg[0], class.kind, KS_IO_WRITE);
	return 0;
}

/*
 * A read only starts its clock here; it acquires at its return, when it
 * got data.  Each thread's slot is made once and then written in place:
 * an update or a delete per read would cost more than the rest together.
 */
static __always_inline int ks_io_read_enter(const struct ks_syscall_args *args)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ks_io_inflight *inflight, fresh = {};
	struct ks_fd_class class;

	if (!ks_current_selected() || !ks_io_class(args->arg[0], false, &class))
		return 0;
	inflight = bpf_map_lookup_elem(&ks_io_inflight, &tid);
	if (!inflight) {
		bpf_map_update_elem(&ks_io_inflight, &tid, &fresh, BPF_NOEXIST);
		inflight = bpf_map_lookup_elem(&ks_io_inflight, &tid);
		if (!inflight)
			return 0;
	}
	inflight->object = class.object;
	inflight->inode = class.inode;
	inflight->fd = (int)args->arg[0];
	inflight->kind = class.kind;
	inflight->begin_ns = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int ks_io_read_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ks_io_inflight *inflight;
	__u64 begin_ns;

	inflight = bpf_map_lookup_elem(&ks_io_inflight, &tid);
	if (!inflight || !inflight->begin_ns)
		return 0;
	begin_ns = inflight->begin_ns;
	inflight->begin_ns = 0;
	if (ret > 0)
		ks_io_emit(begin_ns, inflight->object, inflight->inode, ret,
			   inflight->fd, inflight->kind, KS_IO_READ);
	return 0;
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
	if (file)
		ks_io_emit(0, (__u64)BPF_CORE_READ(file, private_data), 0, 0,
			   (int)fd, KS_IO_EVENTFD, KS_IO_MADE);
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
