/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel events carry CLOCK_MONOTONIC timestamps (bpf_ktime_get_ns); people
 * and OTLP want wall-clock time.  The offset between the two is sampled with
 * paired clock_gettime() calls and refreshed, since NTP slews the realtime
 * clock but not the monotonic one.
 */
#ifndef KS_CLOCK_H
#define KS_CLOCK_H

#include <stdint.h>

uint64_t ks_now_mono_ns(void);
uint64_t ks_now_real_ns(void);
/*
 * CPU time the calling thread has used: what its own work costs, whatever
 * else the machine runs meanwhile.
 */
uint64_t ks_thread_cpu_ns(void);

/* Re-samples the offset; cheap, call it every few seconds. */
void ks_clock_resample(void);
/* Wall-clock ns since the Unix epoch for a CLOCK_MONOTONIC timestamp. */
uint64_t ks_mono_to_real_ns(uint64_t mono_ns);

/*
 * How long from begin to end, taken on two CPUs maybe.  The end can read
 * earlier: a waker on another CPU may end a wait a moment after it began,
 * and the clocks of two CPUs of a VM differ by up to a few hundred
 * nanoseconds.  Such a wait lasted no time, not 584 years.
 */
static inline uint64_t ks_lasted_ns(uint64_t begin_ns, uint64_t end_ns)
{
	return end_ns > begin_ns ? end_ns - begin_ns : 0;
}
/* RFC 3339 UTC with nanoseconds into buf (at least 32 bytes). */
void ks_format_rfc3339(uint64_t real_ns, char *buf, unsigned long size);

#endif /* KS_CLOCK_H */
