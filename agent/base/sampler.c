// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "base/sampler.h"

#define KS_RANDOMNESS_BITS 56
#define KS_RANDOMNESS_RANGE (1ull << KS_RANDOMNESS_BITS)

static const char *const names[] = {
	[KS_SAMPLER_PARENTBASED_ALWAYS_ON] = "parentbased_always_on",
	[KS_SAMPLER_PARENTBASED_ALWAYS_OFF] = "parentbased_always_off",
	[KS_SAMPLER_PARENTBASED_TRACEIDRATIO] = "parentbased_traceidratio",
	[KS_SAMPLER_ALWAYS_ON] = "always_on",
	[KS_SAMPLER_ALWAYS_OFF] = "always_off",
	[KS_SAMPLER_TRACEIDRATIO] = "traceidratio",
};

const char *ks_sampler_name(enum ks_sampler_kind kind)
{
	return names[kind];
}

bool ks_sampler_kind_parse(const char *name, enum ks_sampler_kind *kind)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]))
			continue;
		*kind = (enum ks_sampler_kind)i;
		return true;
	}
	return false;
}

void ks_sampler_init(struct ks_sampler *sampler, enum ks_sampler_kind kind,
		     double ratio)
{
	if (!(ratio >= 0))
		ratio = 0;
	if (ratio > 1)
		ratio = 1;
	sampler->kind = kind;
	sampler->ratio = ratio;
	/* Rounded to the nearest: ratio 1 is 0, ratio 0 the whole range. */
	sampler->threshold =
		(uint64_t)((1 - ratio) * (double)KS_RANDOMNESS_RANGE + 0.5);
}

static bool ks_ratio_sample(const struct ks_sampler *sampler,
			    const uint8_t trace_id[KS_TRACE_ID_LEN])
{
	uint64_t randomness = 0;

	for (int i = KS_TRACE_ID_LEN - KS_RANDOMNESS_BITS / 8;
	     i < KS_TRACE_ID_LEN; i++)
		randomness = randomness << 8 | trace_id[i];
	return randomness >= sampler->threshold;
}

static bool ks_root_sample(const struct ks_sampler *sampler,
			   const uint8_t trace_id[KS_TRACE_ID_LEN])
{
	switch (sampler->kind) {
	case KS_SAMPLER_PARENTBASED_ALWAYS_ON:
	case KS_SAMPLER_ALWAYS_ON:
		return true;
	case KS_SAMPLER_PARENTBASED_ALWAYS_OFF:
	case KS_SAMPLER_ALWAYS_OFF:
		return false;
	case KS_SAMPLER_PARENTBASED_TRACEIDRATIO:
	case KS_SAMPLER_TRACEIDRATIO:
		break;
	}
	return ks_ratio_sample(sampler, trace_id);
}

bool ks_sampler_sample(const struct ks_sampler *sampler,
		       const uint8_t trace_id[KS_TRACE_ID_LEN],
		       enum ks_sampler_parent parent)
{
	bool parent_based =
		sampler->kind <= KS_SAMPLER_PARENTBASED_TRACEIDRATIO;

	/* ParentBased's defaults: follow the parent, local or remote. */
	if (parent_based && parent != KS_PARENT_NONE)
		return parent == KS_PARENT_SAMPLED;
	return ks_root_sample(sampler, trace_id);
}
