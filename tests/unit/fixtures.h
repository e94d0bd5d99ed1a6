/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Builders for tables, threads and waits shared by the agent's unit tests. */
#ifndef KS_TEST_FIXTURES_H
#define KS_TEST_FIXTURES_H

#include <arpa/inet.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "model/table.h"

#define TEST_PIDNS 4026531836u

static inline struct ks_thread *add_thread(struct ks_table *table,
					   uint32_t tgid, uint32_t tid)
{
	return ks_table_add_thread(table, tgid, tid, TEST_PIDNS, tid,
				   1000 + tid, "worker");
}

/* Puts thread in a futex wait on uaddr with the given words. */
static inline void begin_wait(struct ks_thread *thread, uint32_t op,
			      uint64_t uaddr, uint32_t val,
			      const uint32_t words[6], uint32_t flags)
{
	struct ks_wait_begin *begin = &thread->wait.begin;

	memset(&thread->wait, 0, sizeof(thread->wait));
	thread->wait.active = true;
	begin->hdr.ts_ns = 1000000;
	begin->hdr.tgid = thread->tgid;
	begin->hdr.tid = thread->tid;
	begin->hdr.kind = KS_EV_WAIT_BEGIN;
	begin->hdr.size = sizeof(*begin);
	begin->syscall = KS_SYS_FUTEX;
	begin->op = op;
	begin->uaddr = uaddr;
	begin->val = val;
	begin->flags = flags | KS_WAIT_WORDS_OK | KS_WAIT_KIND_OK;
	memcpy(begin->words, words, 6 * sizeof(uint32_t));
}

/* A glibc mutex (normal, private) locked by owner with a waiter. */
static inline void wait_for_mutex(struct ks_thread *waiter, uint64_t uaddr,
				  uint32_t owner)
{
	const uint32_t words[6] = { 2, 0, owner, 1, 0, 0 };

	begin_wait(waiter, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, uaddr, 2, words, 0);
}

/*
 * glibc rwlock waits with the words a live glibc 2.36 showed, each a
 * private lock at rwlock: a writer waits for the writer (holder), a reader
 * waits for the writer, a writer waits for `readers` readers.
 */
#define RWLOCK_WAIT_OP (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG | 256)

static inline void begin_wait_around(struct ks_thread *thread, uint64_t uaddr,
				     uint32_t val, const uint32_t before[4],
				     const uint32_t words[6])
{
	begin_wait(thread, RWLOCK_WAIT_OP, uaddr, val, words,
		   KS_WAIT_BEFORE_OK);
	memcpy(thread->wait.begin.words_before, before, 4 * sizeof(uint32_t));
}

static inline void wait_to_write_rwlock(struct ks_thread *waiter,
					uint64_t rwlock, uint32_t holder)
{
	const uint32_t before[4] = { 0, 3, 0, 1 };
	const uint32_t words[6] = { 3, 0, 0, holder, 0, 0 };

	begin_wait_around(waiter, rwlock + 12, 3, before, words);
}

static inline void wait_to_read_rwlock(struct ks_thread *waiter,
				       uint64_t rwlock, uint32_t holder)
{
	const uint32_t before[4] = { 0, 0, 0xb, 0 };
	const uint32_t words[6] = { 3, 1, 0, 0, holder, 0 };

	begin_wait_around(waiter, rwlock + 8, 3, before, words);
}

static inline void wait_for_rwlock_readers(struct ks_thread *waiter,
					   uint64_t rwlock, uint32_t readers)
{
	const uint32_t before[4] = { 0, 0, 2 | readers << 3, 0 };
	const uint32_t words[6] = { 2, 1, 0, 0, 0, 0 };

	begin_wait_around(waiter, rwlock + 8, 2, before, words);
}

/*
 * A musl mutex of the given type (its _m_type) at mutex, locked with
 * lock_word (an owner's tid, or EBUSY for a normal mutex) and waited for,
 * with the words a live musl 1.2.3 showed.
 */
static inline void wait_for_musl_mutex(struct ks_thread *waiter, uint64_t mutex,
				       uint32_t type, uint32_t lock_word)
{
	const uint32_t before[4] = { 0, 0, 0, type };
	const uint32_t words[6] = { 0x80000000u | lock_word, 1, 0, 0, 0, 0 };

	begin_wait(waiter, FUTEX_WAIT | (type & 128 ? 0 : FUTEX_PRIVATE_FLAG),
		   mutex + 4, words[0], words,
		   KS_WAIT_BEFORE_OK | (type & 128 ? KS_WAIT_SHARED : 0));
	memcpy(waiter->wait.begin.words_before, before, 4 * sizeof(uint32_t));
}

/* A party to an I/O wait: any thread of process tgid, by its fd 4. */
#define ANY_OF(pid)                              \
	{                                        \
		.tgid = (pid), .tid = 0, .fd = 4 \
	}

/*
 * Puts thread in a lasting I/O wait of that kind on inode, which the
 * parties[0..n) can end; complete: every process was searched.
 */
static inline struct ks_io_target *
wait_on_io(struct ks_thread *thread, enum ks_io_wait_kind kind, uint64_t inode,
	   const struct ks_io_party *parties, size_t n, bool complete)
{
	struct ks_io_target *target = calloc(1, sizeof(*target));

	ks_thread_io_reset(&thread->io);
	thread->io.blocked = true;
	thread->io.samples = 2;
	thread->io.seen_ns = 3000000;
	target->kind = kind;
	target->object = kind == KS_IO_WAIT_SOCKET_READ ||
					 kind == KS_IO_WAIT_SOCKET_WRITE ?
				 KS_IO_OBJ_UNIX :
				 KS_IO_OBJ_PIPE;
	target->call = kind == KS_IO_WAIT_PIPE_WRITE ? "write" : "read";
	target->fd = 5;
	target->epoll_fd = -1;
	target->inode = inode;
	target->rule = KS_IO_RULE_HOLDERS;
	target->parties = calloc(n ? n : 1, sizeof(*parties));
	memcpy(target->parties, parties, n * sizeof(*parties));
	target->nr_parties = (uint32_t)n;
	target->complete = complete;
	target->parties_ns = 3000000;
	thread->io.target = target;
	return target;
}

/*
 * A connected loopback TCP pair: fds[0] the client, fds[1] the server's
 * end, fds[2] the listener, left open; returns the server's port.
 */
static inline uint16_t loopback_tcp(int fds[3])
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);

	fds[2] = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fds[2], (struct sockaddr *)&addr, len), 0);
	assert_int_equal(listen(fds[2], 1), 0);
	assert_int_equal(getsockname(fds[2], (struct sockaddr *)&addr, &len),
			 0);
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fds[0], (struct sockaddr *)&addr, len), 0);
	fds[1] = accept(fds[2], NULL, NULL);
	assert_true(fds[1] >= 0);
	return ntohs(addr.sin_port);
}

#endif /* KS_TEST_FIXTURES_H */
