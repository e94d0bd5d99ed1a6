// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "model/wait_target.h"

/* glibc's pthread_mutex_t.__data.__kind bits (nptl/pthreadP.h). */
#define GLIBC_MUTEX_TYPE_MASK 0x3
#define GLIBC_MUTEX_ROBUST 0x10
#define GLIBC_MUTEX_PI 0x20
#define GLIBC_MUTEX_PP 0x40
#define GLIBC_MUTEX_PSHARED 0x80
#define GLIBC_MUTEX_ELISION 0x100
#define GLIBC_MUTEX_NO_ELISION 0x200
#define GLIBC_MUTEX_KNOWN_BITS                                         \
	(GLIBC_MUTEX_TYPE_MASK | GLIBC_MUTEX_ROBUST | GLIBC_MUTEX_PI | \
	 GLIBC_MUTEX_PP | GLIBC_MUTEX_PSHARED | GLIBC_MUTEX_ELISION |  \
	 GLIBC_MUTEX_NO_ELISION)

/* glibc's low-level lock: 0 free, 1 locked, 2 locked with waiters. */
#define GLIBC_LLL_LOCKED_WAITERS 2

enum { W_LOCK = 0, W_COUNT, W_OWNER, W_NUSERS, W_KIND, W_SPINS };

/*
 * glibc's pthread_rwlock_t (nptl/pthread_rwlock_common.c): __readers at +0
 * holds the phase, whether a writer owns or claims it, and the number of
 * readers; __wrphase_futex (+8) is where readers wait out a writer and
 * where a writer waits for readers to leave; __writers_futex (+12) is
 * where writers wait for the writer; __cur_writer (+24) is the writer's
 * tid while it holds the lock, 0 otherwise; __shared (+28) is 1 for a
 * process-shared lock.  +16 and +20 are padding, always 0.
 */
#define GLIBC_RWLOCK_WRPHASE 1u
#define GLIBC_RWLOCK_WRLOCKED 2u
#define GLIBC_RWLOCK_READER_SHIFT 3
#define GLIBC_RWLOCK_FUTEX_USED 2u
/* The words around each futex, as indices of words[] and words_before[]. */
enum {
	RW_WRITERS_READERS = 1,
	RW_WRITERS_CUR_WRITER = 3,
	RW_WRITERS_SHARED = 4
};
enum {
	RW_WRPHASE_READERS = 2,
	RW_WRPHASE_WRITERS_FUTEX = 1,
	RW_WRPHASE_CUR_WRITER = 4,
	RW_WRPHASE_SHARED = 5
};

/*
 * musl's pthread_mutex_t (src/internal/pthread_impl.h): _m_type at +0,
 * the futex word _m_lock at +4, _m_waiters at +8.  The type's low two bits
 * are glibc's (normal, recursive, errorcheck), then 4 robust, 8 priority
 * inheritance, 128 process-shared.  A locked normal mutex's word is EBUSY;
 * every other type's is its owner's tid (0x40000000: the owner died).
 * Waiters set 0x80000000 and wait for that value with FUTEX_WAIT.
 */
#define MUSL_MUTEX_TYPE_MASK 3u
#define MUSL_MUTEX_ROBUST 4u
#define MUSL_MUTEX_PI 8u
#define MUSL_MUTEX_PSHARED 128u
#define MUSL_MUTEX_KNOWN_BITS                                       \
	(MUSL_MUTEX_TYPE_MASK | MUSL_MUTEX_ROBUST | MUSL_MUTEX_PI | \
	 MUSL_MUTEX_PSHARED)
#define MUSL_MUTEX_WAITERS 0x80000000u
#define MUSL_MUTEX_TID_MASK 0x3fffffffu
#define MUSL_EBUSY 16u
/* _m_type is the word before the futex, _m_waiters the one after. */
#define MUSL_W_TYPE 3
#define MUSL_W_WAITERS 1

/* splitmix64's finaliser: every input bit reaches every output bit. */
static uint64_t ks_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

const char *ks_lock_kind_name(enum ks_lock_kind kind)
{
	switch (kind) {
	case KS_LOCK_MUTEX:
		return "mutex";
	case KS_LOCK_ROBUST_MUTEX:
		return "robust-mutex";
	case KS_LOCK_PI_MUTEX:
		return "pi-mutex";
	case KS_LOCK_THREAD_EXIT:
		return "thread-exit";
	case KS_LOCK_RWLOCK_WRITE:
		return "rwlock-write";
	case KS_LOCK_RWLOCK_READ:
		return "rwlock-read";
	case KS_LOCK_KERNEL_MUTEX:
		return "kernel-mutex";
	case KS_LOCK_KERNEL_RWSEM:
		return "kernel-rwsem";
	case KS_LOCK_KERNEL_OTHER:
		return "kernel-lock";
	case KS_LOCK_NONE:
		break;
	}
	return "futex";
}

const char *ks_lock_kind_family(enum ks_lock_kind kind)
{
	if (kind == KS_LOCK_ROBUST_MUTEX || kind == KS_LOCK_PI_MUTEX)
		kind = KS_LOCK_MUTEX;
	return ks_lock_kind_name(kind);
}

bool ks_lock_kind_in_kernel(enum ks_lock_kind kind)
{
	return kind >= KS_LOCK_KERNEL_MUTEX;
}

enum ks_lock_kind ks_klock_kind(uint32_t flags)
{
	if (flags & KS_KLOCK_MUTEX)
		return KS_LOCK_KERNEL_MUTEX;
	if (flags & (KS_KLOCK_READ | KS_KLOCK_WRITE))
		return KS_LOCK_KERNEL_RWSEM;
	return KS_LOCK_KERNEL_OTHER;
}

void ks_lock_address_describe(const struct ks_wait_target *target, char *buf,
			      unsigned long size)
{
	static uint64_t key;

	if (!ks_lock_kind_in_kernel(target->kind)) {
		snprintf(buf, size, "0x%" PRIx64, target->lock_addr);
		return;
	}
	while (!key)
		if (getrandom(&key, sizeof(key), 0) != sizeof(key))
			key = 0x9e3779b97f4a7c15ull;
	snprintf(buf, size, "k:%016" PRIx64, ks_mix64(target->lock_addr ^ key));
}

void ks_mutex_kind_describe(uint32_t mutex_kind, char *buf, unsigned long size)
{
	static const char *const types[] = { "normal", "recursive",
					     "errorcheck", "adaptive" };

	if (mutex_kind == UINT32_MAX) {
		snprintf(buf, size, "unknown");
		return;
	}
	/* glibc sets the pshared bit on every robust mutex too. */
	bool asked_pshared = (mutex_kind & GLIBC_MUTEX_PSHARED) &&
			     !(mutex_kind & GLIBC_MUTEX_ROBUST);

	snprintf(buf, size, "%s%s%s%s",
		 types[mutex_kind & GLIBC_MUTEX_TYPE_MASK],
		 mutex_kind & GLIBC_MUTEX_ROBUST ? ",robust" : "",
		 mutex_kind & GLIBC_MUTEX_PI ? ",prio-inherit" : "",
		 asked_pshared ? ",pshared" : "");
}

static bool ks_plausible_mutex_kind(uint32_t kind)
{
	return !(kind & ~(uint32_t)GLIBC_MUTEX_KNOWN_BITS);
}

/*
 * The holder must be a live thread of the waiter's pid namespace and, for a
 * process-private futex, of the waiter's own process.
 */
static struct ks_thread *ks_find_holder(const struct ks_table *table,
					const struct ks_thread *waiter,
					uint32_t ns_tid, bool shared)
{
	struct ks_thread *holder;

	if (!ns_tid || ns_tid > FUTEX_TID_MASK)
		return NULL;
	holder = ks_table_thread_in_ns(table, waiter->ns.pidns_ino, ns_tid);
	if (!holder || (!shared && holder->tgid != waiter->tgid))
		return NULL;
	return holder;
}

/* musl's mutex type in glibc's __kind bits, which reports describe. */
static uint32_t ks_musl_mutex_kind(uint32_t type)
{
	return (type & MUSL_MUTEX_TYPE_MASK) |
	       (type & MUSL_MUTEX_ROBUST ? GLIBC_MUTEX_ROBUST : 0) |
	       (type & MUSL_MUTEX_PI ? GLIBC_MUTEX_PI : 0) |
	       (type & MUSL_MUTEX_PSHARED ? GLIBC_MUTEX_PSHARED : 0);
}

static bool ks_plausible_musl_type(const struct ks_wait_begin *begin)
{
	return (begin->flags & KS_WAIT_BEFORE_OK) &&
	       !(begin->words_before[MUSL_W_TYPE] & ~MUSL_MUTEX_KNOWN_BITS);
}

static void ks_resolve_pi(const struct ks_table *table,
			  const struct ks_thread *waiter,
			  const struct ks_wait_begin *begin, bool shared,
			  struct ks_wait_target *out)
{
	const uint32_t *words = begin->words;
	uint32_t type;

	out->kind = KS_LOCK_PI_MUTEX;
	/* A PI futex word holds the owner's tid itself: no guessing. */
	out->holder_ns_tid = words[W_LOCK] & FUTEX_TID_MASK;
	out->holder = ks_find_holder(table, waiter, out->holder_ns_tid, shared);
	if (waiter->process->libc == KS_LIBC_MUSL) {
		type = begin->words_before[MUSL_W_TYPE];
		if (ks_plausible_musl_type(begin) && (type & MUSL_MUTEX_PI)) {
			out->lock_addr = begin->uaddr - 4;
			out->mutex_kind = ks_musl_mutex_kind(type);
		}
	} else if ((begin->flags & KS_WAIT_KIND_OK) &&
		   ks_plausible_mutex_kind(words[W_KIND])) {
		out->mutex_kind = words[W_KIND];
	}
}

/* pthread_join waits until the kernel clears the joined thread's tid word. */
static bool ks_resolve_join(const struct ks_table *table,
			    const struct ks_thread *waiter, uint64_t uaddr,
			    uint32_t val, const uint32_t *words,
			    struct ks_wait_target *out)
{
	struct ks_thread *joined;

	if (words[W_LOCK] != val)
		return false;
	joined = ks_find_holder(table, waiter, val, false);
	if (!joined || joined == waiter)
		return false;
	/* Exact when the clone event told us where that word lives. */
	if (joined->clear_child_tid && joined->clear_child_tid != uaddr)
		return false;
	out->kind = KS_LOCK_THREAD_EXIT;
	out->lock_addr = uaddr;
	out->holder_ns_tid = val;
	out->holder = joined;
	return true;
}

static bool ks_resolve_mutex(const struct ks_table *table,
			     const struct ks_thread *waiter, uint64_t uaddr,
			     uint32_t val, const uint32_t *words, bool kind_ok,
			     bool shared, struct ks_wait_target *out)
{
	uint32_t lock = words[W_LOCK];
	uint32_t owner = words[W_OWNER];
	enum ks_lock_kind kind;

	if (kind_ok && !ks_plausible_mutex_kind(words[W_KIND]))
		return false;
	if (val == GLIBC_LLL_LOCKED_WAITERS && lock == val) {
		/* lll_lock_wait(): the owner's tid is in __owner. */
		kind = KS_LOCK_MUTEX;
	} else if (val == GLIBC_LLL_LOCKED_WAITERS && kind_ok &&
		   (lock == 0 || lock == 1)) {
		/*
		 * lll_lock_wait() too, read while the lock was handed over:
		 * released (0) or retaken (1) after the waiter stored 2 and
		 * before these words were read.  The kernel sleeps only if
		 * the word is 2 again; a mutex whose holder is not known.
		 */
		kind = KS_LOCK_MUTEX;
		owner = 0;
	} else if ((val & FUTEX_WAITERS) && (val & FUTEX_TID_MASK) &&
		   lock == val && (val & FUTEX_TID_MASK) == owner) {
		/* Robust mutexes keep the owner's tid in the lock word too. */
		kind = KS_LOCK_ROBUST_MUTEX;
	} else {
		return false;
	}
	if (kind_ok && (words[W_KIND] & (GLIBC_MUTEX_PI | GLIBC_MUTEX_PP)))
		return false; /* those never wait with FUTEX_WAIT */
	/*
	 * No user yet, or no more: the holder took the lock and has not
	 * counted itself in, or is handing it over (unlock clears __owner
	 * and __nusers before the lock word).  Still a mutex, whose holder
	 * is not known now: the same lock is the same kind of wait at
	 * whatever moment a waiter arrives.
	 */
	if (kind_ok && words[W_NUSERS] == 0)
		owner = 0;

	out->kind = kind;
	out->lock_addr = uaddr;
	out->holder_ns_tid = owner;
	out->holder = ks_find_holder(table, waiter, owner, shared);
	out->mutex_kind = kind_ok ? words[W_KIND] : UINT32_MAX;
	return true;
}

/*
 * musl's pthread_join waits for the kernel to clear the joined thread's
 * detach state, the word its clone named to be cleared at exit: only the
 * clone record says whose it is.
 */
static bool ks_resolve_musl_join(const struct ks_thread *waiter,
				 const struct ks_wait_begin *begin,
				 struct ks_wait_target *out)
{
	struct ks_thread *joined;

	if (begin->words[0] != begin->val || !begin->val)
		return false;
	DL_FOREACH(waiter->process->threads, joined)
		if (joined != waiter &&
		    joined->clear_child_tid == begin->uaddr) {
			out->kind = KS_LOCK_THREAD_EXIT;
			out->holder_ns_tid = joined->ns.ns_tid;
			out->holder = joined;
			return true;
		}
	return false;
}

static bool ks_resolve_musl_mutex(const struct ks_table *table,
				  const struct ks_thread *waiter,
				  const struct ks_wait_begin *begin,
				  struct ks_wait_target *out)
{
	uint32_t type = begin->words_before[MUSL_W_TYPE];
	uint32_t val = begin->val, owner;
	bool shared = type & MUSL_MUTEX_PSHARED;

	if (!ks_plausible_musl_type(begin) || (type & MUSL_MUTEX_PI) ||
	    (begin->op & FUTEX_CMD_MASK) != FUTEX_WAIT ||
	    begin->words[0] != val || !(val & MUSL_MUTEX_WAITERS) ||
	    !begin->words[MUSL_W_WAITERS] ||
	    !(begin->op & FUTEX_PRIVATE_FLAG) == !shared)
		return false;
	if (!(type & (MUSL_MUTEX_TYPE_MASK | MUSL_MUTEX_ROBUST))) {
		/* Normal: locked, and nothing says by whom. */
		if ((val & ~MUSL_MUTEX_WAITERS) != MUSL_EBUSY)
			return false;
		owner = 0;
	} else {
		owner = val & MUSL_MUTEX_TID_MASK;
		if (!owner)
			return false;
	}
	out->kind =
		type & MUSL_MUTEX_ROBUST ? KS_LOCK_ROBUST_MUTEX : KS_LOCK_MUTEX;
	out->lock_addr = begin->uaddr - 4;
	out->holder_ns_tid = owner;
	out->holder = ks_find_holder(table, waiter, owner, shared);
	out->mutex_kind = ks_musl_mutex_kind(type);
	return true;
}

/*
 * A glibc rwlock wait.  The futex word's value, the padding around it and
 * __shared (which must agree with the futex op's private flag) tell which
 * futex of which rwlock this is, far more surely than a mutex's words do.
 */
static bool ks_resolve_glibc_rwlock(const struct ks_table *table,
				    const struct ks_thread *waiter,
				    const struct ks_wait_begin *begin,
				    bool shared, struct ks_wait_target *out)
{
	const uint32_t *words = begin->words, *before = begin->words_before;
	const uint32_t ok =
		KS_WAIT_WORDS_OK | KS_WAIT_KIND_OK | KS_WAIT_BEFORE_OK;
	uint32_t readers, holder;
	uint64_t rwlock;

	if ((begin->flags & ok) != ok || words[0] != begin->val)
		return false;
	if (begin->val == (1 | GLIBC_RWLOCK_FUTEX_USED) && !words[1] &&
	    !words[2] && words[RW_WRITERS_SHARED] == shared) {
		/* A writer waits on __writers_futex for the writer. */
		readers = before[RW_WRITERS_READERS];
		holder = words[RW_WRITERS_CUR_WRITER];
		rwlock = begin->uaddr - 12;
		if (!(readers & GLIBC_RWLOCK_WRLOCKED))
			return false;
		out->kind = KS_LOCK_RWLOCK_WRITE;
	} else if ((begin->val & ~1u) == GLIBC_RWLOCK_FUTEX_USED &&
		   (words[RW_WRPHASE_WRITERS_FUTEX] & 1) && !words[2] &&
		   !words[3] && words[RW_WRPHASE_SHARED] == shared) {
		/*
		 * On __wrphase_futex: a reader waits for the writer (1 in
		 * the value: a write phase), or the writer waits for the
		 * readers to leave (a read phase).
		 */
		readers = before[RW_WRPHASE_READERS];
		holder = words[RW_WRPHASE_CUR_WRITER];
		rwlock = begin->uaddr - 8;
		if (!(readers & GLIBC_RWLOCK_WRLOCKED) ||
		    !(readers & GLIBC_RWLOCK_WRPHASE) != !(begin->val & 1))
			return false;
		out->kind = begin->val & 1 ? KS_LOCK_RWLOCK_READ :
					     KS_LOCK_RWLOCK_WRITE;
	} else {
		return false;
	}
	out->lock_addr = rwlock;
	out->holder_ns_tid = holder;
	out->holder = ks_find_holder(table, waiter, holder, shared);
	/* In a read phase the readers hold it: say how many. */
	if (!(readers & GLIBC_RWLOCK_WRPHASE))
		out->readers = readers >> GLIBC_RWLOCK_READER_SHIFT;
	return true;
}

/*
 * The kernel names the owner of a mutex or write-held rw-semaphore by its
 * host tid: no namespace to translate, nothing to validate but liveness.
 */
static void ks_resolve_klock(const struct ks_table *table,
			     const struct ks_thread *waiter,
			     struct ks_wait_target *out)
{
	const struct ks_thread_klock *klock = &waiter->klock;

	out->kind = ks_klock_kind(klock->flags);
	out->lock_addr = klock->lock;
	out->holder_ns_tid = klock->owner_tid;
	out->holder = klock->owner_tid ?
			      ks_table_thread(table, klock->owner_tid) :
			      NULL;
	out->deadlock_edge = out->holder != NULL;
}

/*
 * A FUTEX_WAIT or FUTEX_WAIT_BITSET: by the layouts of the process's C
 * library, or of both when it is not known (they do not overlap: glibc's
 * waits on its mutexes are for the value 2, musl's have the top bit set).
 */
static void ks_resolve_wait(const struct ks_table *table,
			    const struct ks_thread *waiter,
			    const struct ks_wait_begin *begin,
			    struct ks_wait_target *out)
{
	enum ks_libc libc = waiter->process->libc;
	bool shared = begin->flags & KS_WAIT_SHARED;
	bool kind_ok = begin->flags & KS_WAIT_KIND_OK;

	bool bitset = (begin->op & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET;

	if (libc != KS_LIBC_MUSL) {
		/* glibc's rwlocks wait with a bitset. */
		if (bitset &&
		    ks_resolve_glibc_rwlock(table, waiter, begin, shared, out))
			return;
		if (ks_resolve_join(table, waiter, begin->uaddr, begin->val,
				    begin->words, out))
			return;
		/*
		 * Its mutexes wait with a bitset only when timed: an untimed
		 * bitset wait for 2 is another 0/1/2 lock (Rust's), whose
		 * words a mutex with no user (__nusers 0) would match.
		 */
		if ((!bitset || (begin->flags & KS_WAIT_TIMED)) &&
		    ks_resolve_mutex(table, waiter, begin->uaddr, begin->val,
				     begin->words, kind_ok, shared, out))
			return;
	}
	if (libc != KS_LIBC_GLIBC && !ks_resolve_musl_join(waiter, begin, out))
		ks_resolve_musl_mutex(table, waiter, begin, out);
}

void ks_wait_target_resolve(const struct ks_table *table,
			    const struct ks_thread *waiter,
			    struct ks_wait_target *out)
{
	const struct ks_wait_begin *begin = ks_lock_wait(&waiter->wait);
	bool shared = begin->flags & KS_WAIT_SHARED;

	memset(out, 0, sizeof(*out));
	out->mutex_kind = UINT32_MAX;
	/* Blocked inside the kernel now, whatever futex wait led there. */
	if (waiter->klock.active) {
		ks_resolve_klock(table, waiter, out);
		return;
	}
	if (!waiter->wait.active && waiter->io.target) {
		out->io = waiter->io.target;
		out->deadlock_edge = out->io->nr_parties > 0;
		return;
	}
	out->lock_addr = begin->uaddr;
	/* After an EDEADLK glibc parks the thread with no timeout. */
	out->timed = (begin->flags & KS_WAIT_TIMED) && !waiter->wait.pi_refused;
	if (!(begin->flags & KS_WAIT_WORDS_OK) ||
	    begin->syscall != KS_SYS_FUTEX)
		return; /* futex2 and waitv: no glibc lock uses them */

	switch (begin->op & FUTEX_CMD_MASK) {
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
		ks_resolve_pi(table, waiter, begin, shared, out);
		break;
	case FUTEX_WAIT_BITSET:
	case FUTEX_WAIT:
		ks_resolve_wait(table, waiter, begin, out);
		break;
	default:
		/* FUTEX_WAIT_REQUEUE_PI is a condition variable wait. */
		break;
	}
	out->deadlock_edge =
		out->kind != KS_LOCK_NONE && out->holder && !out->timed;
}

/*
 * glibc's sem_t (nptl/semaphore.h, 64-bit): the value in the low half of
 * its first 64-bit word, the number of waiters in the high half, then 0
 * for a private semaphore or FUTEX_PRIVATE_FLAG for a shared one (glibc's
 * FUTEX_PRIVATE is 0).  Waiters wait for the value 0 with a bitset.
 * musl's: the value (-1: empty with waiters), the waiters, then 128 for a
 * private one or 0, which is the flag its waiters pass.
 */
static bool ks_looks_like_semaphore(const struct ks_wait_begin *begin)
{
	const uint32_t *words = begin->words;
	uint32_t private_flag = begin->op & FUTEX_PRIVATE_FLAG;
	uint32_t cmd = begin->op & FUTEX_CMD_MASK;

	if (words[0] != begin->val || !words[1])
		return false;
	if (cmd == FUTEX_WAIT_BITSET && !begin->val)
		return words[2] == (private_flag ^ FUTEX_PRIVATE_FLAG);
	return cmd == FUTEX_WAIT && begin->val == UINT32_MAX &&
	       words[2] == private_flag;
}

enum ks_wait_guess ks_wait_guess_from_words(const struct ks_thread *waiter,
					    const struct ks_wait_target *target)
{
	const struct ks_wait_begin *begin = ks_lock_wait(&waiter->wait);

	switch (target->kind) {
	case KS_LOCK_MUTEX:
	case KS_LOCK_ROBUST_MUTEX:
	case KS_LOCK_PI_MUTEX:
		return KS_GUESS_MUTEX;
	case KS_LOCK_RWLOCK_WRITE:
	case KS_LOCK_RWLOCK_READ:
		return KS_GUESS_RWLOCK;
	case KS_LOCK_THREAD_EXIT:
		return KS_GUESS_THREAD_EXIT;
	case KS_LOCK_NONE:
		break;
	default:
		return KS_GUESS_UNKNOWN;
	}
	if (!(begin->flags & KS_WAIT_WORDS_OK) ||
	    begin->syscall != KS_SYS_FUTEX)
		return KS_GUESS_UNKNOWN;
	if (ks_looks_like_semaphore(begin))
		return KS_GUESS_SEMAPHORE;
	/* Rust's futex mutex: 2 is locked with waiters, awaited with a
	 * bitset (glibc's mutexes never wait with one). */
	if ((begin->op & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET &&
	    (begin->op & FUTEX_PRIVATE_FLAG) && begin->val == 2 &&
	    begin->words[0] == 2)
		return KS_GUESS_RUST_MUTEX;
	return KS_GUESS_UNKNOWN;
}

const char *ks_wait_guess_name(enum ks_wait_guess guess, enum ks_libc libc)
{
	switch (guess) {
	case KS_GUESS_MUTEX:
		return libc == KS_LIBC_MUSL  ? "musl-mutex" :
		       libc == KS_LIBC_GLIBC ? "glibc-mutex" :
					       "mutex";
	case KS_GUESS_RWLOCK:
		return "rwlock";
	case KS_GUESS_SEMAPHORE:
		return "sem_t";
	case KS_GUESS_CPYTHON_LOCK:
		return "cpython-lock";
	case KS_GUESS_RUST_MUTEX:
		return "rust-mutex";
	case KS_GUESS_RUST_RWLOCK:
		return "rust-rwlock";
	case KS_GUESS_CONDVAR:
		return "condvar";
	case KS_GUESS_BARRIER:
		return "barrier";
	case KS_GUESS_THREAD_EXIT:
		return "thread-exit";
	case KS_GUESS_UNKNOWN:
		break;
	}
	return "futex";
}

bool ks_wait_guess_is_lock(enum ks_wait_guess guess)
{
	switch (guess) {
	case KS_GUESS_MUTEX:
	case KS_GUESS_RWLOCK:
	case KS_GUESS_SEMAPHORE:
	case KS_GUESS_CPYTHON_LOCK:
	case KS_GUESS_RUST_MUTEX:
	case KS_GUESS_RUST_RWLOCK:
		return true;
	default:
		return false;
	}
}
