// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <bpf/bpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "base/log.h"
#include "capture/capture.h"
#include "capture/syscall_hooks.h"
#include "knotscope.skel.h"

struct ks_capture {
	struct knotscope_bpf *skel;
	struct ring_buffer *ring;
	const char *attach_mode;
	enum ks_syscall_hooks syscall_hooks;
	bool has_lock_contention; /* lock:contention_begin, Linux 5.19+ */
	bool shares_trace_ctx; /* ks_traces_ctx is the pinned traces_ctx_v1 */
};

/* Tracepoint handlers come in a tp_btf and a raw_tp twin: one of them. */
static bool ks_is_other_twin(const struct bpf_program *prog, bool use_btf)
{
	const char *section = bpf_program__section_name(prog);

	if (!strncmp(section, "tp_btf/", 7))
		return !use_btf;
	if (!strncmp(section, "raw_tp/", 7))
		return use_btf;
	return false;
}

static bool ks_has_prefix(const struct bpf_program *prog, const char *prefix)
{
	return !strncmp(bpf_program__name(prog), prefix, strlen(prefix));
}

/* Whether the running kernel has a tracepoint tp_btf can attach to. */
static bool ks_kernel_has_tracepoint(const char *name)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	char typedef_name[128];
	bool found;

	if (!vmlinux)
		return false;
	snprintf(typedef_name, sizeof(typedef_name), "btf_trace_%s", name);
	found = btf__find_by_name_kind(vmlinux, typedef_name,
				       BTF_KIND_TYPEDEF) > 0;
	btf__free(vmlinux);
	return found;
}

/* What the run asked for and what the kernel offers decide what loads. */
static bool ks_program_wanted(const struct bpf_program *prog,
			      const struct ks_capture_config *config,
			      const struct ks_capture *capture)
{
	enum ks_syscall_hooks hooks = ks_syscall_hooks_of(
		bpf_program__section_name(prog), bpf_program__name(prog));

	if (hooks != KS_HOOKS_NONE && hooks != capture->syscall_hooks)
		return false;
	switch (ks_syscall_user_of(bpf_program__name(prog))) {
	case KS_FOR_WAITS:
		return config->wait_hooks == KS_WAITS_SYSCALL;
	case KS_FOR_CHANNELS:
		return config->channel_edges;
	case KS_FOR_WAITS_OR_CHANNELS:
		return config->wait_hooks == KS_WAITS_SYSCALL ||
		       config->channel_edges;
	case KS_FOR_NOTHING:
		break;
	}
	if (ks_has_prefix(prog, "ks_block") || ks_has_prefix(prog, "ks_woken"))
		return config->wait_hooks == KS_WAITS_SCHED;
	if (ks_has_prefix(prog, "ks_switch") ||
	    ks_has_prefix(prog, "ks_waking"))
		return config->offcpu_min_ns > 0;
	if (ks_has_prefix(prog, "ks_klock"))
		return capture->has_lock_contention;
	if (ks_has_prefix(prog, "ks_mutex"))
		return config->precise;
	if (ks_has_prefix(prog, "ks_sock_"))
		return config->http;
	return true;
}

/*
 * Socket maps are preallocated: without --http they shrink to nothing, and
 * traces_ctx_v1 is the shared one only when the agent found or made it.
 */
static int ks_size_socket_maps(struct knotscope_bpf *skel,
			       const struct ks_capture_config *config)
{
	int err = 0;

	if (!config->http) {
		err = bpf_map__set_max_entries(skel->maps.ks_socks, 1);
		if (!err)
			err = bpf_map__set_max_entries(
				skel->maps.ks_agent_conns, 1);
		if (!err)
			err = bpf_map__set_max_entries(
				skel->maps.ks_agent_connecting, 1);
		if (err)
			return err;
	}
	if (config->http && config->trace_ctx_fd >= 0)
		return bpf_map__reuse_fd(skel->maps.ks_traces_ctx,
					 config->trace_ctx_fd);
	return bpf_map__set_max_entries(skel->maps.ks_traces_ctx, 1);
}

/* Without --channel-edges only the scheduler's notes are kept. */
static int ks_shrink_channel_maps(struct knotscope_bpf *skel)
{
	struct bpf_map *maps[] = { skel->maps.ks_fd_classes,
				   skel->maps.ks_io_inflight,
				   skel->maps.ks_streams };
	int err = 0;

	for (size_t i = 0; !err && i < sizeof(maps) / sizeof(maps[0]); i++)
		err = bpf_map__set_max_entries(maps[i], 1);
	return err;
}

static int ks_capture_load(struct ks_capture *capture,
			   const struct ks_capture_config *config, bool use_btf)
{
	const struct ks_selection *selection = config->selection;
	struct knotscope_bpf *skel;
	struct bpf_program *prog;
	int err;

	skel = knotscope_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->ks_agent_tgid = selection->agent_tgid;
	skel->rodata->ks_filter_mode = ks_selection_filter_mode(selection);
	skel->rodata->ks_wakeup_bytes = config->ringbuf_bytes / 4;
	skel->rodata->ks_offcpu_min_ns = config->offcpu_min_ns;
	skel->rodata->ks_stack_every_ns = config->stack_every_ns;
	skel->rodata->ks_stack_min_ns = config->min_wait_ns;
	skel->rodata->ks_capture_bytes = config->capture_bytes;
	skel->rodata->ks_syscall_waits = config->wait_hooks == KS_WAITS_SYSCALL;
	skel->rodata->ks_channel_edges = config->channel_edges;
	err = bpf_map__set_max_entries(skel->maps.ks_events,
				       config->ringbuf_bytes);
	if (!err)
		err = ks_size_socket_maps(skel, config);
	/* --pid's bitmap, 512 KiB: one word when no --pid is given. */
	if (!err && !(skel->rodata->ks_filter_mode & KS_FILTER_PID))
		err = bpf_map__set_max_entries(skel->maps.ks_sel_tgids, 1);
	/* Preallocated (LRU): nothing for precise mode when it is off. */
	if (!err && !config->precise)
		err = bpf_map__set_max_entries(skel->maps.ks_lock_pending, 1);
	if (!err && !config->channel_edges)
		err = ks_shrink_channel_maps(skel);
	if (err)
		goto fail;
	bpf_object__for_each_program(prog, skel->obj) {
		err = bpf_program__set_autoload(
			prog, !ks_is_other_twin(prog, use_btf) &&
				      ks_program_wanted(prog, config, capture));
		if (err)
			goto fail;
	}
	err = knotscope_bpf__load(skel);
	if (err)
		goto fail;
	capture->skel = skel;
	return 0;
fail:
	knotscope_bpf__destroy(skel);
	return err;
}

static int ks_capture_select(struct ks_capture *capture,
			     const struct ks_selection *selection)
{
	struct bpf_map *tgids = capture->skel->maps.ks_sel_tgids;
	uint8_t one = 1;
	int err;

	/* A bitmap (see KS_SEL_TGID_WORDS): pids may share a word. */
	for (unsigned int i = 0; i < selection->nr_pids; i++) {
		uint32_t word = selection->pids[i] / 64;
		uint64_t bits;

		/* Above the kernel's limit: names no process, ever. */
		if (selection->pids[i] >= KS_SEL_TGID_LIMIT)
			continue;
		err = bpf_map__lookup_elem(tgids, &word, sizeof(word), &bits,
					   sizeof(bits), 0);
		if (!err) {
			bits |= 1ull << (selection->pids[i] % 64);
			err = bpf_map__update_elem(tgids, &word, sizeof(word),
						   &bits, sizeof(bits),
						   BPF_ANY);
		}
		if (err)
			return err;
	}
	for (unsigned int i = 0; i < selection->nr_comms; i++) {
		struct ks_comm_key key;

		memcpy(key.comm, selection->comms[i], KS_COMM_LEN);
		err = bpf_map__update_elem(capture->skel->maps.ks_sel_comms,
					   &key, sizeof(key), &one, sizeof(one),
					   BPF_ANY);
		if (err)
			return err;
	}
	return 0;
}

/* Loads, fills the selection maps, attaches; or leaves nothing behind. */
static int ks_capture_attempt(struct ks_capture *capture,
			      const struct ks_capture_config *config,
			      bool use_btf)
{
	int err = ks_capture_load(capture, config, use_btf);

	if (err)
		return err;
	err = ks_capture_select(capture, config->selection);
	if (!err)
		err = knotscope_bpf__attach(capture->skel);
	if (err) {
		knotscope_bpf__destroy(capture->skel);
		capture->skel = NULL;
	}
	return err;
}

/* With the system call hooks chosen: tp_btf or raw_tp for the rest. */
static int ks_capture_attach(struct ks_capture *capture,
			     const struct ks_capture_config *config)
{
	int err;

	/*
	 * tp_btf dispatches fastest but needs BTF for each tracepoint and a
	 * 5.5+ kernel; raw_tp works wherever raw tracepoints do.  Both run the
	 * same code, so the probe is simply: does the tp_btf set load?
	 */
	if (!config->attach_mode || !strcmp(config->attach_mode, "tp_btf")) {
		err = ks_capture_attempt(capture, config, true);
		if (!err) {
			capture->attach_mode = "tp_btf";
			return 0;
		}
		if (err == -EPERM || config->attach_mode)
			return err; /* no privileges, or asked for tp_btf */
		ks_debug("tp_btf programs did not load (%s); using raw_tp\n",
			 strerror(-err));
	}
	err = ks_capture_attempt(capture, config, false);
	if (!err)
		capture->attach_mode = "raw_tp";
	return err;
}

/* The ways of hooking system calls worth trying here, in order. */
static unsigned int ks_capture_plan(const struct ks_capture_config *config,
				    enum ks_syscall_hooks plan[KS_HOOKS_COUNT])
{
	const enum ks_syscall_hooks *requested = config->syscall_hooks;
	bool fentry = false, tracefs = false;
	char why[160] = "";

	if (!requested || *requested == KS_HOOKS_FENTRY)
		fentry = ks_fentry_works();
	if (!requested || *requested == KS_HOOKS_TRACEPOINT ||
	    (*requested == KS_HOOKS_FENTRY && !fentry)) {
		tracefs = !ks_tracefs_ensure(why, sizeof(why));
		if (!tracefs && !requested)
			ks_info("%s: system calls are hooked through "
				"sys_enter/sys_exit, which every system call "
				"of the machine pays for\n",
				why);
		else if (!tracefs)
			ks_err("%s\n", why);
	}
	return ks_syscall_hooks_plan(requested, fentry, tracefs, plan);
}

int ks_capture_open(struct ks_capture **out,
		    const struct ks_capture_config *config)
{
	enum ks_syscall_hooks plan[KS_HOOKS_COUNT];
	struct ks_capture *capture;
	unsigned int nr_plan;
	int err = -ENOENT;

	/*
	 * --http reads the socket layer's tracepoints (Linux 6.3+), no system
	 * call: older kernels would need syscall hooks, which slow every task
	 * of the machine down, so they are refused rather than hooked.
	 */
	if (config->http && !ks_kernel_has_tracepoint("sock_recv_length")) {
		ks_err("--http needs the sock:sock_recv_length and "
		       "sock:sock_send_length tracepoints (Linux 6.3 or "
		       "later); this kernel has none\n");
		return -EOPNOTSUPP;
	}
	capture = calloc(1, sizeof(*capture));
	if (!capture)
		return -ENOMEM;
	capture->shares_trace_ctx = config->http && config->trace_ctx_fd >= 0;
	capture->has_lock_contention =
		ks_kernel_has_tracepoint("contention_begin");
	if (!capture->has_lock_contention)
		ks_debug("no lock:contention_* tracepoints (Linux < 5.19): "
			 "kernel lock waits are not watched\n");
	/* Hooking none is what keeps every task on the fast syscall path. */
	if (config->wait_hooks == KS_WAITS_SYSCALL || config->channel_edges) {
		nr_plan = ks_capture_plan(config, plan);
	} else {
		plan[0] = KS_HOOKS_NONE;
		nr_plan = 1;
	}
	for (unsigned int i = 0; i < nr_plan; i++) {
		capture->syscall_hooks = plan[i];
		err = ks_capture_attach(capture, config);
		if (!err)
			break;
		if (i + 1 < nr_plan)
			ks_debug("system call hooks %s did not attach (%s); "
				 "trying %s\n",
				 ks_syscall_hooks_name(plan[i]), strerror(-err),
				 ks_syscall_hooks_name(plan[i + 1]));
	}
	if (err)
		goto fail;
	ks_debug("BPF programs loaded as %s, system calls hooked by %s\n",
		 capture->attach_mode,
		 ks_syscall_hooks_name(capture->syscall_hooks));
	capture->ring =
		ring_buffer__new(bpf_map__fd(capture->skel->maps.ks_events),
				 config->on_record, config->ctx, NULL);
	if (!capture->ring) {
		err = -errno;
		goto fail;
	}
	*out = capture;
	return 0;
fail:
	/* EACCES is the verifier's no; EPERM is the kernel's. */
	if (err == -EPERM && capture->syscall_hooks == KS_HOOKS_FENTRY)
		ks_err("the kernel refused fentry programs (%s): try "
		       "--syscall-hooks tracepoint or sys_enter\n",
		       strerror(-err));
	else if (err == -EPERM)
		ks_err("the kernel refused to load BPF programs (%s): run as "
		       "root or grant CAP_BPF,CAP_PERFMON,CAP_SYS_PTRACE\n",
		       strerror(-err));
	else if (err == -EACCES)
		ks_err("the kernel's verifier rejected a BPF program (run "
		       "with -vv for its log)\n");
	else
		ks_err("cannot load the BPF programs: %s (run with -vv for "
		       "the verifier's log)\n",
		       strerror(-err));
	ks_capture_close(capture);
	return err;
}

static void *ks_detach_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/*
 * Detaching a per-syscall tracepoint waits for an RCU grace period (tens of
 * milliseconds), and the skeleton detaches its programs one after another:
 * with a few dozen of them a stop took seconds, which every pod's
 * termination and every test pays.  Each link is detached by a thread of
 * its own, so that the grace periods overlap; one that cannot be started
 * detaches where it is.
 */
static void ks_capture_detach(struct knotscope_bpf *skel)
{
	const struct bpf_object_skeleton *s = skel->skeleton;
	pthread_t *threads = calloc((size_t)s->prog_cnt, sizeof(*threads));
	bool *started = calloc((size_t)s->prog_cnt, sizeof(*started));
	bool attr_ok = false;
	pthread_attr_t attr;

	/* Without them the skeleton detaches, one after another. */
	if (!threads || !started || pthread_attr_init(&attr))
		goto cleanup;
	attr_ok = true;
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (int i = 0; i < s->prog_cnt; i++) {
		const struct bpf_prog_skeleton *prog =
			(const void *)((const char *)s->progs +
				       (size_t)i * s->prog_skel_sz);
		struct bpf_link *link = *prog->link;

		if (!link)
			continue;
		*prog->link = NULL;
		started[i] = !pthread_create(&threads[i], &attr, ks_detach_link,
					     link);
		if (!started[i])
			bpf_link__destroy(link);
	}
	for (int i = 0; i < s->prog_cnt; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
cleanup:
	if (attr_ok)
		pthread_attr_destroy(&attr);
	free(threads);
	free(started);
}

void ks_capture_close(struct ks_capture *capture)
{
	if (!capture)
		return;
	ring_buffer__free(capture->ring);
	if (capture->skel)
		ks_capture_detach(capture->skel);
	knotscope_bpf__destroy(capture->skel);
	free(capture);
}

struct bpf_object *ks_capture_object(const struct ks_capture *capture)
{
	return capture->skel->obj;
}

const char *ks_capture_attach_mode(const struct ks_capture *capture)
{
	return capture->attach_mode;
}

const char *ks_capture_syscall_hooks(const struct ks_capture *capture)
{
	return ks_syscall_hooks_name(capture->syscall_hooks);
}

struct bpf_program *ks_capture_program(struct ks_capture *capture,
				       const char *name)
{
	return bpf_object__find_program_by_name(capture->skel->obj, name);
}

int ks_capture_epoll_fd(const struct ks_capture *capture)
{
	return ring_buffer__epoll_fd(capture->ring);
}

int ks_capture_consume(struct ks_capture *capture)
{
	return ring_buffer__consume(capture->ring);
}

int ks_capture_read_stats(const struct ks_capture *capture,
			  struct ks_cpu_stats *sum)
{
	int nr_cpus = libbpf_num_possible_cpus();
	struct ks_cpu_stats *per_cpu;
	uint32_t zero = 0;
	int err;

	memset(sum, 0, sizeof(*sum));
	if (nr_cpus <= 0)
		return nr_cpus;
	per_cpu = calloc((size_t)nr_cpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	err = bpf_map__lookup_elem(capture->skel->maps.ks_stats, &zero,
				   sizeof(zero), per_cpu,
				   (size_t)nr_cpus * sizeof(*per_cpu), 0);
	for (int cpu = 0; !err && cpu < nr_cpus; cpu++) {
		for (int k = 0; k < KS_EV_KIND_MAX; k++) {
			sum->submitted[k] += per_cpu[cpu].submitted[k];
			sum->reserve_failed[k] +=
				per_cpu[cpu].reserve_failed[k];
		}
		sum->inflight_full += per_cpu[cpu].inflight_full;
		sum->socks_full += per_cpu[cpu].socks_full;
	}
	free(per_cpu);
	return err;
}

int ks_capture_track_wait(struct ks_capture *capture, uint32_t tid,
			  const struct ks_inflight *inflight)
{
	const struct bpf_map *map = capture->skel->maps.ks_inflight;
	struct ks_inflight seen, seeded = *inflight;

	/* A wait the kernel side saw begin is the better record. */
	if (!bpf_map__lookup_elem(map, &tid, sizeof(tid), &seen, sizeof(seen),
				  0) &&
	    seen.active)
		return -EEXIST;
	seeded.active = 1;
	return bpf_map__update_elem(map, &tid, sizeof(tid), &seeded,
				    sizeof(seeded), BPF_ANY);
}

uint64_t ks_capture_read_began(struct ks_capture *capture, uint32_t tid, int fd)
{
	struct ks_io_inflight slot;
	struct ks_blocked blocked;

	/* The read hooks' slot with --channel-edges, else the scheduler's. */
	if (!bpf_map__lookup_elem(capture->skel->maps.ks_io_inflight, &tid,
				  sizeof(tid), &slot, sizeof(slot), 0))
		return slot.op == KS_IO_READ && slot.fd == fd ? slot.begin_ns :
								0;
	if (!bpf_map__lookup_elem(capture->skel->maps.ks_blocked, &tid,
				  sizeof(tid), &blocked, sizeof(blocked), 0) &&
	    blocked.in == KS_BLOCKED_READ && blocked.fd == fd)
		return blocked.since_ns;
	return 0;
}

void ks_capture_publish_trace_ctx(struct ks_capture *capture, bool publish)
{
	capture->skel->bss->ks_publish_trace_ctx =
		publish && capture->shares_trace_ctx;
}

unsigned int ks_capture_prog_ids(const struct ks_capture *capture,
				 uint32_t *ids, unsigned int max)
{
	struct bpf_program *prog;
	unsigned int nr = 0;

	bpf_object__for_each_program(prog, capture->skel->obj) {
		struct bpf_prog_info info = { 0 };
		uint32_t len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (nr < max && fd >= 0 &&
		    !bpf_obj_get_info_by_fd(fd, &info, &len))
			ids[nr++] = info.id;
	}
	return nr;
}

/*
 * Marked ignored rather than deleted: the next data would track the socket
 * again, as a new connection, and the agent would judge it once more.  A
 * program writing the entry at the same time loses its write (one turn's
 * direction, or a traces_ctx_v1 entry left to the LRU): harmless, and rare.
 */
void ks_capture_forget_sock(struct ks_capture *capture, uint64_t sock,
			    uint64_t conn_id)
{
	const struct bpf_map *map = capture->skel->maps.ks_socks;
	struct ks_sock_state state;

	/*
	 * ENOENT is fine: the socket may have ended first.  Its address may
	 * even be another socket's by now (freed sockets are reused first):
	 * that connection has another id, and stays.
	 */
	if (bpf_map__lookup_elem(map, &sock, sizeof(sock), &state,
				 sizeof(state), 0) ||
	    state.conn_id != conn_id)
		return;
	state.ignored = 1;
	bpf_map__update_elem(map, &sock, sizeof(sock), &state, sizeof(state),
			     BPF_EXIST);
}
