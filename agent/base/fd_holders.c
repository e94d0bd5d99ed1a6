// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/fd_holders.h"
#include "base/proc.h"

struct ks_sought {
	enum ks_fd_type type;
	uint64_t dev;
	uint64_t inode;
	size_t index; /* in the caller's files */
};

struct ks_holder_search {
	struct ks_sought *sought; /* sorted by ks_sought_cmp */
	size_t nr_sought;
	bool fifos;
	ks_fd_holder_fn fn;
	void *ctx;
	uint32_t tgid;
	size_t nr_fds; /* of the process being looked at */
};

static int ks_sought_cmp(const void *a, const void *b)
{
	const struct ks_sought *x = a, *y = b;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return 0;
}

static void ks_held(struct ks_holder_search *s, const struct ks_sought *key,
		    int fd)
{
	struct ks_fd_holder holder = { .tgid = s->tgid, .fd = fd };
	const struct ks_sought *found =
		bsearch(key, s->sought, s->nr_sought, sizeof(*s->sought),
			ks_sought_cmp);

	if (!found)
		return;
	holder.flags = UINT32_MAX;
	if (found->type != KS_FD_SOCKET &&
	    ks_proc_read_fd_flags(s->tgid, fd, &holder.flags))
		holder.flags = UINT32_MAX;
	/* The same file sought twice (two waits on one pipe): both hear. */
	while (found > s->sought && !ks_sought_cmp(found - 1, key))
		found--;
	for (; found < s->sought + s->nr_sought && !ks_sought_cmp(found, key);
	     found++)
		s->fn(found->index, &holder, s->ctx);
}

static int ks_look_at_fd(int fd, const struct ks_fd_link *link, void *arg)
{
	struct ks_holder_search *s = arg;
	struct ks_sought key = { .type = link->type, .inode = link->inode };
	unsigned int mode;

	s->nr_fds++;
	if (link->type == KS_FD_PATH) {
		if (!s->fifos ||
		    ks_proc_stat_fd(s->tgid, fd, &key.dev, &key.inode, &mode) ||
		    !S_ISFIFO(mode))
			return 0;
	} else if (link->type != KS_FD_PIPE && link->type != KS_FD_SOCKET) {
		return 0;
	}
	ks_held(s, &key, fd);
	return 0;
}

static int ks_look_at_thread(uint32_t tid, void *arg)
{
	struct ks_holder_search *s = arg;

	ks_proc_for_each_fd(s->tgid, tid, ks_look_at_fd, s);
	/* The first thread with files shows the table they all share. */
	return s->nr_fds != 0;
}

static int ks_look_at_process(uint32_t tgid, void *arg)
{
	struct ks_holder_search *s = arg;

	s->tgid = tgid;
	s->nr_fds = 0;
	if (ks_proc_for_each_fd(tgid, 0, ks_look_at_fd, s) == 0 && !s->nr_fds)
		ks_proc_for_each_thread(tgid, ks_look_at_thread, s);
	return 0;
}

int ks_find_fd_holders(const struct ks_file_id *files, size_t nr_files,
		       const uint32_t *tgids, size_t nr_tgids,
		       ks_fd_holder_fn fn, void *ctx)
{
	struct ks_holder_search s = { .fn = fn, .ctx = ctx };
	int ret = 0;

	if (!nr_files)
		return 0;
	s.sought = calloc(nr_files, sizeof(*s.sought));
	if (!s.sought)
		return -1;
	for (size_t i = 0; i < nr_files; i++) {
		s.sought[i] = (struct ks_sought){
			.type = files[i].type,
			.dev = files[i].type == KS_FD_PATH ? files[i].dev : 0,
			.inode = files[i].inode,
			.index = i,
		};
		s.fifos |= files[i].type == KS_FD_PATH;
	}
	s.nr_sought = nr_files;
	qsort(s.sought, nr_files, sizeof(*s.sought), ks_sought_cmp);
	if (!tgids) {
		ret = ks_proc_for_each_process(ks_look_at_process, &s) ? -1 : 0;
	} else {
		for (size_t i = 0; i < nr_tgids; i++)
			ks_look_at_process(tgids[i], &s);
	}
	free(s.sought);
	return ret;
}
