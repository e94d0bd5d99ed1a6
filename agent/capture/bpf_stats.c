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

void ks_bpf_stats_read(const struct bpf_object *obj,
		       struct ks_agent_health *health)
{
	struct bpf_program *prog;

	health->nr_bpf_progs = 0;
	bpf_object__for_each_program(prog, obj) {
		struct ks_bpf_prog_cost *cost =
			&health->bpf_progs[health->nr_bpf_progs];
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		/* Not loaded: the other attach mode's twin. */
		if (fd < 0 || health->nr_bpf_progs == KS_MAX_BPF_PROGS)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		snprintf(cost->name, sizeof(cost->name), "%s",
			 bpf_program__name(prog));
		cost->run_count = info.run_cnt;
		cost->run_time_ns = info.run_time_ns;
		health->nr_bpf_progs++;
	}
}
