// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "base/clock.h"
#include "base/trace_ids.h"
#include "telemetry/span_groups.h"

/* One thread's open period. */
struct ks_group {
	uint32_t tid; /* the key */
	uint32_t tgid;
	char thread_name[KS_COMM_LEN];
	struct ks_group_slot slot;
	struct ks_otlp_resource *resource; /* a reference of its own */
	uint64_t start_ns;
	uint64_t end_ns;
	unsigned int nr_spans;
	UT_hash_handle hh;
};

struct ks_span_groups {
	struct ks_group *open;
	size_t nr_open;
	size_t max_groups;
	const struct ks_otlp_scope *scope;
};

struct ks_span_groups *ks_span_groups_new(size_t max_groups,
					  const struct ks_otlp_scope *scope)
{
	struct ks_span_groups *groups = calloc(1, sizeof(*groups));

	if (!groups)
		return NULL;
	groups->max_groups = max_groups;
	groups->scope = scope;
	return groups;
}

static void ks_group_drop(struct ks_span_groups *groups, struct ks_group *group)
{
	HASH_DEL(groups->open, group);
	groups->nr_open--;
	ks_otlp_resource_put(group->resource);
	free(group);
}

void ks_span_groups_free(struct ks_span_groups *groups)
{
	struct ks_group *group, *tmp;

	if (!groups)
		return;
	HASH_ITER(hh, groups->open, group, tmp)
		ks_group_drop(groups, group);
	free(groups);
}

/* The root of a period: the thread, and how many spans it holds. */
static OtlpSpan *ks_group_root(const struct ks_group *group)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	OtlpSpan *span;

	span = ks_otlp_span_new(group->slot.trace_id, group->slot.root_id,
				"thread busy",
				ks_mono_to_real_ns(group->start_ns),
				ks_mono_to_real_ns(group->end_ns));
	if (!span)
		return NULL;
	ks_otlp_attrs_int(&attrs, "thread.id", group->tid);
	ks_otlp_attrs_str(&attrs, "thread.name", group->thread_name);
	ks_otlp_attrs_int(&attrs, "knotscope.group.spans", group->nr_spans);
	if (ks_otlp_span_add_attrs(span, &attrs)) {
		ks_otlp_message_free(span);
		return NULL;
	}
	return span;
}

static void ks_group_close(struct ks_span_groups *groups,
			   struct ks_group *group,
			   struct ks_otlp_exporter *exporter)
{
	OtlpSpan *root;

	if (group->slot.sampled) {
		root = ks_group_root(group);
		if (root)
			ks_otlp_export_span(exporter, group->resource,
					    groups->scope, root);
	}
	ks_group_drop(groups, group);
}

static bool ks_group_takes(const struct ks_group *group, uint32_t tgid,
			   uint64_t start_ns, uint64_t end_ns)
{
	return group->tgid == tgid &&
	       start_ns < group->end_ns + KS_GROUP_GAP_NS &&
	       group->nr_spans < KS_GROUP_MAX_SPANS &&
	       end_ns - group->start_ns < KS_GROUP_MAX_NS;
}

bool ks_span_groups_join(struct ks_span_groups *groups,
			 const struct ks_thread *thread,
			 struct ks_otlp_resource *resource, uint64_t start_ns,
			 uint64_t end_ns, const struct ks_sampler *sampler,
			 struct ks_otlp_exporter *exporter,
			 struct ks_group_slot *slot)
{
	struct ks_group *group;
	uint32_t tid = thread->tid;

	HASH_FIND(hh, groups->open, &tid, sizeof(tid), group);
	if (group && !ks_group_takes(group, thread->tgid, start_ns, end_ns)) {
		ks_group_close(groups, group, exporter);
		group = NULL;
	}
	if (!group) {
		if (groups->nr_open >= groups->max_groups)
			return false;
		group = calloc(1, sizeof(*group));
		if (!group)
			return false;
		group->tid = tid;
		group->tgid = thread->tgid;
		memcpy(group->thread_name, thread->comm, KS_COMM_LEN);
		ks_trace_id_new(group->slot.trace_id);
		ks_span_id_new(group->slot.root_id);
		group->slot.sampled = ks_sampler_sample(
			sampler, group->slot.trace_id, KS_PARENT_NONE);
		group->resource = ks_otlp_resource_get(resource);
		group->start_ns = start_ns;
		group->end_ns = end_ns;
		HASH_ADD(hh, groups->open, tid, sizeof(group->tid), group);
		groups->nr_open++;
	}
	/* Records come slightly out of order: the period covers them all. */
	if (start_ns < group->start_ns)
		group->start_ns = start_ns;
	if (end_ns > group->end_ns)
		group->end_ns = end_ns;
	group->nr_spans++;
	*slot = group->slot;
	return true;
}

void ks_span_groups_close(struct ks_span_groups *groups, uint64_t now_ns,
			  uint32_t tgid, bool all,
			  struct ks_otlp_exporter *exporter)
{
	struct ks_group *group, *tmp;

	HASH_ITER(hh, groups->open, group, tmp) {
		if (all || (tgid && group->tgid == tgid) ||
		    (!tgid && group->end_ns + KS_GROUP_GAP_NS <= now_ns))
			ks_group_close(groups, group, exporter);
	}
}
