/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * How often the main loop ticks: the ring buffer is drained and the graph
 * examined.  The kernel side does not wake the agent per record (see
 * ks_submit), so the slow period bounds how late an event is seen: it adds
 * at most 20 ms to detection.  A tick's work (the ring buffer drained,
 * records applied, spans built and encoded) runs in one burst on one CPU,
 * and whatever else is runnable there waits for the burst to end.  At one
 * tick per 20 ms, a node serving 33,000 HTTP requests per second gave the
 * agent bursts of about 1.5 ms: on two CPUs, the client feeding the traced
 * server waited for them, or was woken on the server's CPU and preempted
 * it, and the server ran out of work (see docs/capture-cost.md).  So while
 * the loop is busy the period shortens, which cuts each burst into four,
 * and it lengthens again once the loop is nearly idle: an idle agent still
 * wakes only every 20 ms.
 *
 * Busy is measured over windows of 20 ms, whatever the period, since one
 * tick says little: the tick after one that left records over, or after a
 * wake-up by a full ring buffer, finds little to do.
 */
#ifndef KS_TICK_PACE_H
#define KS_TICK_PACE_H

#include <stdbool.h>
#include <stdint.h>

#define KS_TICK_SLOW_NS (20 * 1000000ull)
#define KS_TICK_FAST_NS (5 * 1000000ull)
#define KS_TICK_WINDOW_NS KS_TICK_SLOW_NS
/* Ticks that took this long in a window make the period fast... */
#define KS_TICK_BUSY_NS (500 * 1000ull)
/*
 * ...and less than this slow again: half, so that a flow near the line
 * does not switch the period at every window.
 */
#define KS_TICK_IDLE_NS (KS_TICK_BUSY_NS / 2)

struct ks_tick_pace {
	uint64_t period_ns;
	uint64_t window_start_ns;
	uint64_t busy_ns; /* in ticks, since window_start_ns */
};

/* Slow, with a window from now_ns. */
void ks_tick_pace_init(struct ks_tick_pace *pace, uint64_t now_ns);

/*
 * Counts a tick that ran from start_ns to end_ns; returns whether
 * pace->period_ns changed.
 */
bool ks_tick_pace_update(struct ks_tick_pace *pace, uint64_t start_ns,
			 uint64_t end_ns);

#endif /* KS_TICK_PACE_H */
