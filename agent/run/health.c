// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "capture/bpf_stats.h"
#include "run/agent.h"

void ks_agent_health(struct ks_agent *agent, struct ks_agent_health *health,
		     struct ks_otlp_stats *export, struct ks_hb_stats *hb)
{
	struct ks_cpu_stats kernel = agent->kernel_at_close;

	memset(health, 0, sizeof(*health));
	memcpy(health->events, agent->model.events, sizeof(health->events));
	if (!agent->capture ||
	    !ks_capture_read_stats(agent->capture, &kernel)) {
		memcpy(health->kernel_lost, kernel.reserve_failed,
		       sizeof(health->kernel_lost));
		health->untracked_waits = kernel.inflight_full;
		health->socks_untracked = kernel.socks_full;
	}
	if (agent->http) {
		ks_http_spans_stats(agent->http, &agent->http_stats);
		health->http = &agent->http_stats;
	}
	health->malformed = agent->model.malformed;
	health->deadlocks = ks_detector_nr_reported(agent->detector);
	health->stalls = agent->stalls ?
				 ks_stall_detector_nr_reported(agent->stalls) :
				 0;
	health->started_real_ns = agent->started_real_ns;
	health->memory_resident = agent->memory.resident;
	health->memory_limit = agent->memory.limit;
	if (agent->telemetry)
		ks_telemetry_shed_stats(agent->telemetry, &health->shed);
	if (agent->telemetry) {
		ks_telemetry_stats(agent->telemetry, export);
		health->export = export;
	}
	if (agent->causality) {
		ks_causality_stats(agent->causality, hb);
		health->hb = hb;
	}
	if (agent->capture && agent->bpf_stats_fd >= 0)
		health->nr_bpf_progs =
			ks_bpf_stats_read(ks_capture_object(agent->capture),
					  health->bpf_progs, KS_MAX_BPF_PROGS);
}
