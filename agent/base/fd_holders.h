/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Who has a file open: every fd, of the processes asked about or of every
 * process, that names one of the files sought, as lsof(8) finds them, from
 * the /proc/PID/fd links.  A process's threads share its file table (they
 * were made with CLONE_FILES, as pthreads are), so the leader's is theirs.
 */
#ifndef KS_FD_HOLDERS_H
#define KS_FD_HOLDERS_H

#include <stddef.h>
#include <stdint.h>

#include "base/proc_fd.h"

/* A file sought: a pipe or socket by its inode, a FIFO by device and inode. */
struct ks_file_id {
	enum ks_fd_type type; /* KS_FD_PIPE, KS_FD_SOCKET, or KS_FD_PATH */
	uint64_t dev; /* KS_FD_PATH only */
	uint64_t inode;
};

struct ks_fd_holder {
	uint32_t tgid;
	int fd;
	/* fdinfo's flags (O_ACCMODE: which end of a pipe); read for pipes
	 * and FIFOs only, UINT32_MAX when it could not be read. */
	unsigned int flags;
};

/* file: the index in the files sought of the one held. */
typedef void (*ks_fd_holder_fn)(size_t file, const struct ks_fd_holder *holder,
				void *ctx);

/*
 * Calls fn for every fd naming one of files[0..nr_files), among the
 * processes tgids[0..nr_tgids), or every process of /proc when tgids is
 * NULL.  FIFOs cost a stat() of every fd that names a path, so those
 * processes' other files are looked at only when a FIFO is sought.
 * Returns 0, or -1 when /proc cannot be listed.
 */
int ks_find_fd_holders(const struct ks_file_id *files, size_t nr_files,
		       const uint32_t *tgids, size_t nr_tgids,
		       ks_fd_holder_fn fn, void *ctx);

#endif /* KS_FD_HOLDERS_H */
