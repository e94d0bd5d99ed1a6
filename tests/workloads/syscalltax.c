// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What a tracer adds to system calls that never block, for the benchmarks
 * and the capture-cost guard: one thread in a loop of OPS calls of
 * getppid() (a call nothing watches), or OPS rounds of writing one byte
 * into a pipe and reading it back (the calls the happens-before edges
 * watch, on an object only this thread touches).  Prints the cost per
 * loop iteration in CPU time (user + system) and wall-clock time,
 * measured inside the program so tracer start-up does not count.
 *
 * usage: syscalltax getppid|pipe OPS
 */
#include <sys/syscall.h>

#include "workload.h"

static void getppid_loop(long ops)
{
	for (long i = 0; i < ops; i++)
		syscall(SYS_getppid);
}

static void pipe_loop(long ops)
{
	int fds[2];
	char byte = 'x';

	if (pipe(fds))
		workload_die("pipe", errno);
	for (long i = 0; i < ops; i++) {
		if (write(fds[1], &byte, 1) != 1)
			workload_die("write", errno);
		if (read(fds[0], &byte, 1) != 1)
			workload_die("read", errno);
	}
	close(fds[0]);
	close(fds[1]);
}

int main(int argc, char **argv)
{
	double cpu, wall;
	long ops;

	if (argc != 3 || (ops = atol(argv[2])) <= 0 ||
	    (strcmp(argv[1], "getppid") && strcmp(argv[1], "pipe"))) {
		fprintf(stderr, "usage: %s getppid|pipe OPS\n", argv[0]);
		return 2;
	}
	workload_say("started");
	cpu = workload_cpu_seconds();
	wall = workload_now();
	if (!strcmp(argv[1], "getppid"))
		getppid_loop(ops);
	else
		pipe_loop(ops);
	cpu = workload_cpu_seconds() - cpu;
	wall = workload_now() - wall;
	printf("cpu_ns_per_op %.3f wall_ns_per_op %.3f\n", cpu * 1e9 / ops,
	       wall * 1e9 / ops);
	workload_say("done");
	return 0;
}
