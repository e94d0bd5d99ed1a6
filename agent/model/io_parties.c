// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd_holders.h"
#include "base/proc.h"
#include "model/io_parties.h"

/* The holders found of one waiter's other end. */
struct ks_found {
	struct ks_fd_holder *holders;
	size_t nr, cap;
	bool overflow;
};

struct ks_search {
	struct ks_thread *const *waiters;
	struct ks_found *found; /* per waiter */
	size_t *waiter_of; /* per file sought: its waiter */
};

static bool ks_searched(const struct ks_io_target *target)
{
	return target->kind != KS_IO_WAIT_NONE &&
	       target->kind != KS_IO_WAIT_CHILD_EXIT;
}

/* The other end of what target waits on, as a file to find. */
static void ks_other_end(const struct ks_io_target *target,
			 struct ks_file_id *file)
{
	memset(file, 0, sizeof(*file));
	switch (target->object) {
	case KS_IO_OBJ_PIPE:
		file->type = KS_FD_PIPE;
		file->inode = target->inode;
		break;
	case KS_IO_OBJ_FIFO:
		file->type = KS_FD_PATH;
		file->dev = target->dev;
		file->inode = target->inode;
		break;
	default:
		file->type = KS_FD_SOCKET;
		file->inode = target->peer_inode;
		break;
	}
}

/*
 * A pipe's reader waits for whoever can write it, a writer for whoever can
 * read it; flags that could not be read count as either.
 */
static bool ks_opposite_end(const struct ks_io_target *target,
			    unsigned int flags)
{
	unsigned int mode = flags & O_ACCMODE;

	if (target->object != KS_IO_OBJ_PIPE &&
	    target->object != KS_IO_OBJ_FIFO)
		return true;
	if (flags == UINT32_MAX)
		return true;
	if (target->kind == KS_IO_WAIT_PIPE_READ)
		return mode != O_RDONLY;
	return mode != O_WRONLY;
}

static void ks_on_holder(size_t file, const struct ks_fd_holder *holder,
			 void *ctx)
{
	struct ks_search *search = ctx;
	size_t w = search->waiter_of[file];
	struct ks_found *found = &search->found[w];
	struct ks_fd_holder *grown;

	if (!ks_opposite_end(search->waiters[w]->io.target, holder->flags))
		return;
	if (found->nr == found->cap) {
		size_t cap = found->cap ? 2 * found->cap : 8;

		if (cap > 4 * KS_IO_MAX_PARTIES) {
			found->overflow = true;
			return;
		}
		grown = realloc(found->holders, cap * sizeof(*grown));
		if (!grown) {
			found->overflow = true;
			return;
		}
		found->holders = grown;
		found->cap = cap;
	}
	found->holders[found->nr++] = *holder;
}

/*
 * Whether thread waits to read from one of its process's fds to the other
 * end again: then it handed the request it took in to another thread (a
 * reader thread feeding workers), and it is not the one to answer.
 */
static bool ks_reads_again(const struct ks_thread *thread, uint32_t tgid,
			   const struct ks_found *found)
{
	struct ks_io_call call;

	if (!thread->io.blocked || !ks_io_call_of(&thread->io.sc, &call) ||
	    call.via != KS_IO_VIA_CALL || call.dir != KS_IO_DIR_READ)
		return false;
	for (size_t i = 0; i < found->nr; i++)
		if (found->holders[i].tgid == tgid &&
		    found->holders[i].fd == call.fd)
			return true;
	return false;
}

/*
 * Of process's threads, the one that took in data last from one of its fds
 * to the other end, when nobody in the process wrote to those since: the
 * one serving the waiter's request.  NULL when records say nothing.
 */
static const struct ks_thread *
ks_serving_thread(const struct ks_process *process,
		  const struct ks_found *found)
{
	const struct ks_thread *thread, *server = NULL;

	DL_FOREACH(process->threads, thread) {
		const struct ks_thread_channels *c = &thread->channels;

		for (size_t i = 0; i < found->nr; i++)
			if (found->holders[i].tgid == process->tgid &&
			    c->read_ns && c->read_fd == found->holders[i].fd &&
			    (!server || c->read_ns > server->channels.read_ns))
				server = thread;
	}
	if (!server || ks_reads_again(server, process->tgid, found))
		return NULL;
	DL_FOREACH(process->threads, thread) {
		const struct ks_thread_channels *c = &thread->channels;

		for (size_t i = 0; i < found->nr; i++)
			if (found->holders[i].tgid == process->tgid &&
			    c->write_fd == found->holders[i].fd &&
			    c->write_ns > server->channels.read_ns)
				return NULL;
	}
	return server;
}

static bool ks_has_party(const struct ks_io_party *parties, size_t n,
			 uint32_t tgid)
{
	for (size_t i = 0; i < n; i++)
		if (parties[i].tgid == tgid)
			return true;
	return false;
}

/* One party per holding process: a thread of it, or any of its threads. */
static int ks_set_parties(const struct ks_table *table,
			  struct ks_thread *waiter,
			  const struct ks_found *found, bool complete,
			  uint64_t now)
{
	struct ks_io_target *target = waiter->io.target;
	bool sockets = target->object == KS_IO_OBJ_UNIX ||
		       target->object == KS_IO_OBJ_TCP;
	struct ks_io_party *parties = NULL;
	size_t n = 0;

	target->rule = KS_IO_RULE_HOLDERS;
	if (found->nr && !found->overflow) {
		parties = calloc(found->nr, sizeof(*parties));
		if (!parties)
			return -1;
	}
	for (size_t i = 0; parties && i < found->nr; i++) {
		const struct ks_fd_holder *h = &found->holders[i];
		const struct ks_process *process =
			ks_table_process(table, h->tgid);
		const struct ks_thread *server =
			sockets && process ? ks_serving_thread(process, found) :
					     NULL;

		if (ks_has_party(parties, n, h->tgid))
			continue;
		parties[n++] = (struct ks_io_party){
			.tgid = h->tgid,
			.tid = server ? server->tid : 0,
			.fd = h->fd,
		};
		if (server)
			target->rule = KS_IO_RULE_SERVING;
	}
	/*
	 * Too many to be sure of: as good as nobody known.  So is a wait its
	 * own process can end when that process handles signals: a handler
	 * may write to it (the self-pipe trick), run by a signal no thread
	 * sends, such as a child's SIGCHLD.
	 */
	if (n > KS_IO_MAX_PARTIES || (ks_has_party(parties, n, waiter->tgid) &&
				      ks_proc_handles_events(waiter->tgid)))
		n = 0;
	free(target->parties);
	target->parties = parties;
	target->nr_parties = (uint32_t)n;
	target->complete = complete;
	target->parties_ns = now;
	return 0;
}

static int ks_set_child(struct ks_io_target *target, uint64_t now)
{
	struct ks_io_party *party = calloc(1, sizeof(*party));

	if (!party)
		return -1;
	party->tgid = target->child_tgid;
	party->fd = -1;
	free(target->parties);
	target->parties = party;
	target->nr_parties = 1;
	target->rule = KS_IO_RULE_CHILD;
	target->complete = true;
	target->parties_ns = now;
	return 0;
}

int ks_io_parties_find(const struct ks_table *table,
		       struct ks_thread *const *waiters, size_t nr_waiters,
		       const uint32_t *tgids, size_t nr_tgids, bool everywhere,
		       uint64_t now)
{
	struct ks_file_id *files = calloc(nr_waiters + 1, sizeof(*files));
	struct ks_search search = {
		.waiters = waiters,
		.found = calloc(nr_waiters + 1, sizeof(*search.found)),
		.waiter_of = calloc(nr_waiters + 1, sizeof(*search.waiter_of)),
	};
	size_t nr_files = 0;
	int ret = -1;

	if (!files || !search.found || !search.waiter_of)
		goto cleanup;
	for (size_t i = 0; i < nr_waiters; i++) {
		if (!ks_searched(waiters[i]->io.target))
			continue;
		ks_other_end(waiters[i]->io.target, &files[nr_files]);
		search.waiter_of[nr_files++] = i;
	}
	/* An empty list of processes is nobody, not everybody. */
	if (nr_files && (everywhere || nr_tgids) &&
	    ks_find_fd_holders(files, nr_files, everywhere ? NULL : tgids,
			       nr_tgids, ks_on_holder, &search))
		goto cleanup;
	ret = 0;
	for (size_t i = 0; i < nr_waiters && !ret; i++) {
		struct ks_io_target *target = waiters[i]->io.target;

		if (target->kind == KS_IO_WAIT_CHILD_EXIT)
			ret = ks_set_child(target, now);
		else if (ks_searched(target))
			ret = ks_set_parties(table, waiters[i],
					     &search.found[i], everywhere, now);
	}
cleanup:
	for (size_t i = 0; search.found && i < nr_waiters; i++)
		free(search.found[i].holders);
	free(search.found);
	free(search.waiter_of);
	free(files);
	return ret;
}
