/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A fake /proc for tests of code that reads processes' files: a temporary
 * directory that ks_proc_root() names while the test runs.
 */
#ifndef KS_TEST_FAKE_PROC_H
#define KS_TEST_FAKE_PROC_H

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/proc.h"

/* root: a mkdtemp() template; the directory made becomes /proc. */
static inline int fake_proc_setup(char *root)
{
	if (!mkdtemp(root))
		return -1;
	ks_proc_set_root(root);
	return 0;
}

/* Makes root/pid and writes its maps file. */
static inline void fake_proc_write_maps(const char *root, const char *pid,
					const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, pid);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s/maps", root, pid);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static inline int fake_proc_teardown(const char *root)
{
	char cmd[600];

	ks_proc_set_root("/proc");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

#endif /* KS_TEST_FAKE_PROC_H */
