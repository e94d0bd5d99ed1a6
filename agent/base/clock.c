// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <time.h>

#include "base/clock.h"

static int64_t mono_to_real_offset_ns;
static int offset_sampled;

static uint64_t ks_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ks_now_mono_ns(void)
{
	return ks_clock_ns(CLOCK_MONOTONIC);
}

uint64_t ks_now_real_ns(void)
{
	return ks_clock_ns(CLOCK_REALTIME);
}

uint64_t ks_thread_cpu_ns(void)
{
	return ks_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

void ks_clock_resample(void)
{
	int64_t best_offset = 0;
	uint64_t best_window = UINT64_MAX;

	/*
	 * Bracket a monotonic read between two realtime reads and keep the
	 * tightest bracket of a few tries: a preemption between the reads
	 * would otherwise skew the offset by the time slice lost.
	 */
	for (int i = 0; i < 5; i++) {
		uint64_t real_before = ks_clock_ns(CLOCK_REALTIME);
		uint64_t mono = ks_clock_ns(CLOCK_MONOTONIC);
		uint64_t real_after = ks_clock_ns(CLOCK_REALTIME);
		uint64_t window = real_after - real_before;

		if (window < best_window) {
			best_window = window;
			best_offset = (int64_t)(real_before + window / 2) -
				      (int64_t)mono;
		}
	}
	mono_to_real_offset_ns = best_offset;
	offset_sampled = 1;
}

uint64_t ks_mono_to_real_ns(uint64_t mono_ns)
{
	if (!offset_sampled)
		ks_clock_resample();
	return (uint64_t)((int64_t)mono_ns + mono_to_real_offset_ns);
}

void ks_format_rfc3339(uint64_t real_ns, char *buf, unsigned long size)
{
	time_t secs = (time_t)(real_ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec,
		 (unsigned long long)(real_ns % 1000000000ull));
}
