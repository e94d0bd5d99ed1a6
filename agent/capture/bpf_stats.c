// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "capture/bpf_stats.h"

int ks_bpf_stats_enable(void)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	return fd < 0 ? -errno : fd;
}

unsigned int ks_bpf_stats_read(const struct bpf_object *obj,
			       struct ks_bpf_prog_cost *costs, unsigned int max)
{
	struct bpf_program *prog;
	unsigned int n = 0;

	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		/* Not loaded: the other attach mode's twin. */
		if (fd < 0 || n == max)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		snprintf(costs[n].name, sizeof(costs[n].name), "%s",
			 bpf_program__name(prog));
		costs[n].run_count = info.run_cnt;
		costs[n].run_time_ns = info.run_time_ns;
		n++;
	}
	return n;
}
