// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>

#include "base/log.h"

static enum ks_log_level current_level = KS_LOG_INFO;

void ks_log_set_level(enum ks_log_level level)
{
	current_level = level;
}

enum ks_log_level ks_log_get_level(void)
{
	return current_level;
}

static void ks_vlog(enum ks_log_level level, const char *fmt, va_list ap)
{
	static const char *const prefix[] = {
		[KS_LOG_ERROR] = "error: ", [KS_LOG_WARN] = "warning: ",
		[KS_LOG_INFO] = "",	    [KS_LOG_DEBUG] = "debug: ",
		[KS_LOG_TRACE] = "trace: ",
	};

	if (level > current_level)
		return;
	/* One write per line so lines from threads do not interleave. */
	flockfile(stderr);
	fprintf(stderr, "knotscope: %s", prefix[level]);
	vfprintf(stderr, fmt, ap);
	funlockfile(stderr);
}

void ks_log(enum ks_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ks_vlog(level, fmt, ap);
	va_end(ap);
}

static int ks_libbpf_print(enum libbpf_print_level level, const char *fmt,
			   va_list ap)
{
	enum ks_log_level ours = level == LIBBPF_WARN ? KS_LOG_DEBUG :
				 level == LIBBPF_INFO ? KS_LOG_DEBUG :
							KS_LOG_TRACE;

	/*
	 * libbpf warns about things knotscope handles itself (a failed
	 * tp_btf load before the raw_tp fallback), so even its warnings are
	 * debug output; knotscope reports the failures that matter.
	 */
	ks_vlog(ours, fmt, ap);
	return 0;
}

void ks_log_install_libbpf(void)
{
	libbpf_set_print(ks_libbpf_print);
}
