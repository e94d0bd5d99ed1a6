/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A model fed with ring buffer records as the agent feeds it (see
 * agent/run/records.c): each record checked, then seen by happens-before
 * when a test wants it, then applied.  For the tests of what records do.
 */
#ifndef KS_TEST_MODEL_WORLD_H
#define KS_TEST_MODEL_WORLD_H

#include <stdlib.h>

#include "hb/causality.h"
#include "model/model.h"
#include "record_header.h"

struct model_world {
	struct ks_model model;
	struct ks_selection selection;
	struct ks_causality *causality; /* NULL: no happens-before */
};

/* USER_HZ 100, every process selected but the agent's own (pid 1). */
static inline struct model_world *model_world_new(bool causality)
{
	struct model_world *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	ks_table_init(&w->model.table, 100);
	w->selection.agent_tgid = 1;
	w->model.selection = &w->selection;
	if (causality)
		w->causality = ks_causality_new(NULL);
	return w;
}

static inline void model_world_free(struct model_world *w)
{
	ks_causality_free(w->causality);
	ks_table_clear(&w->model.table);
	free(w);
}

static inline void model_world_apply(struct model_world *w, const void *data,
				     size_t size)
{
	if (!ks_model_accept(&w->model, data, size))
		return;
	if (w->causality)
		ks_causality_apply(w->causality, &w->model, data);
	ks_model_apply(&w->model, data);
}

#endif /* KS_TEST_MODEL_WORLD_H */
