// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>

#include "base/log.h"
#include "capture/preflight.h"
#include "run/agent.h"
#include "run/config_file.h"
#include "run/options.h"

int main(int argc, char **argv)
{
	static struct ks_options options;
	int status = 0;

	switch (ks_options_parse(&options, argc, argv, ks_config_file_load,
				 stdout, stderr)) {
	case KS_PARSE_EXIT_OK:
		goto cleanup;
	case KS_PARSE_ERROR:
		status = 2;
		goto cleanup;
	case KS_PARSE_RUN:
		break;
	}
	ks_log_set_level(options.verbosity >= 2 ? KS_LOG_TRACE :
			 options.verbosity == 1 ? KS_LOG_DEBUG :
						  KS_LOG_INFO);
	if (options.check_config) {
		status = ks_agent_check_config(&options);
		goto cleanup;
	}
	ks_log_install_libbpf();
	status = ks_preflight(options.preflight) ? 1 : ks_agent_run(&options);
cleanup:
	ks_options_free(&options);
	return status;
}
