// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>

#include "base/log.h"
#include "capture/preflight.h"
#include "run/agent.h"
#include "run/options.h"

int main(int argc, char **argv)
{
	static struct ks_options options;

	switch (ks_options_parse(&options, argc, argv, stdout, stderr)) {
	case KS_PARSE_EXIT_OK:
		return 0;
	case KS_PARSE_ERROR:
		return 2;
	case KS_PARSE_RUN:
		break;
	}
	ks_log_set_level(options.verbosity >= 2 ? KS_LOG_TRACE :
			 options.verbosity == 1 ? KS_LOG_DEBUG :
						  KS_LOG_INFO);
	ks_log_install_libbpf();
	if (ks_preflight(options.preflight))
		return 1;
	return ks_agent_run(&options);
}
