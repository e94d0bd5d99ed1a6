// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Threads appending large blocks to one file: each write(2) takes the
 * file's inode lock (an rw-semaphore) in the kernel, so the writers contend
 * on a kernel lock, not on any lock of their own.
 *
 * usage: file_writers PATH THREADS WRITES
 */
#include <fcntl.h>

#include "workload.h"

#define BLOCK (256 * 1024)

static int fd;
static long writes;

static void *append_blocks(void *arg)
{
	static char block[BLOCK];

	for (long i = 0; i < writes; i++)
		if (write(fd, block, sizeof(block)) != sizeof(block))
			workload_die("write", errno);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t threads[64];
	int nr_threads;

	if (argc != 4)
		workload_die("usage: file_writers PATH THREADS WRITES", EINVAL);
	nr_threads = atoi(argv[2]);
	writes = atol(argv[3]);
	if (nr_threads < 1 || nr_threads > 64)
		workload_die("file_writers", EINVAL);
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (fd < 0)
		workload_die(argv[1], errno);
	workload_say("started");
	for (int i = 0; i < nr_threads; i++)
		WORKLOAD_CHECK(
			pthread_create(&threads[i], NULL, append_blocks, NULL));
	for (int i = 0; i < nr_threads; i++)
		pthread_join(threads[i], NULL);
	close(fd);
	unlink(argv[1]);
	workload_say("done");
	return 0;
}
