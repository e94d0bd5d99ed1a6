/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Pins the agent's maps and programs in the BPF filesystem under their own
 * names, so bpftool and other tools can find them by path:
 * /sys/fs/bpf/knotscope/ks_stats, /sys/fs/bpf/knotscope/ks_sys_enter...
 *
 * Links are not pinned: a pinned link keeps its program attached after the
 * agent is gone, tracing every futex wait into a ring buffer nobody reads.
 */
#ifndef KS_BPF_PINS_H
#define KS_BPF_PINS_H

#include <bpf/libbpf.h>

#define KS_PIN_DIR "/sys/fs/bpf/knotscope"

/*
 * Pins every map and every loaded program of obj under dir, replacing
 * what a previous run left there.  Returns 0, or -errno after saying why.
 */
int ks_bpf_pins_create(struct bpf_object *obj, const char *dir);

/* Removes what ks_bpf_pins_create() made, and dir if it is empty then. */
void ks_bpf_pins_remove(struct bpf_object *obj, const char *dir);

#endif /* KS_BPF_PINS_H */
