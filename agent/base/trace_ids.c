// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/trace_ids.h"

/* xoshiro256** (Blackman and Vigna): fast, and 256 bits of state. */
static uint64_t state[4];
static int seeded;

static uint64_t ks_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t ks_next(void)
{
	uint64_t result = ks_rotl(state[1] * 5, 7) * 9;
	uint64_t t = state[1] << 17;

	state[2] ^= state[0];
	state[3] ^= state[1];
	state[1] ^= state[2];
	state[0] ^= state[3];
	state[2] ^= t;
	state[3] = ks_rotl(state[3], 45);
	return result;
}

static void ks_seed(void)
{
	struct timespec ts;

	if (getrandom(state, sizeof(state), 0) != sizeof(state)) {
		/* Never seen on 3.17+ kernels; still, never all zero. */
		clock_gettime(CLOCK_REALTIME, &ts);
		state[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
		state[1] = (uint64_t)ts.tv_sec;
		state[2] = 0x9e3779b97f4a7c15ull;
		state[3] = 0xbf58476d1ce4e5b9ull;
	}
	seeded = 1;
}

static void ks_fill_nonzero(uint8_t *id, size_t len)
{
	if (!seeded)
		ks_seed();
	for (;;) {
		for (size_t i = 0; i < len; i += sizeof(uint64_t)) {
			uint64_t word = ks_next();

			memcpy(id + i, &word, sizeof(word));
		}
		for (size_t i = 0; i < len; i++)
			if (id[i])
				return;
	}
}

void ks_trace_id_new(uint8_t id[KS_TRACE_ID_LEN])
{
	ks_fill_nonzero(id, KS_TRACE_ID_LEN);
}

void ks_span_id_new(uint8_t id[KS_SPAN_ID_LEN])
{
	ks_fill_nonzero(id, KS_SPAN_ID_LEN);
}
