# knotscope as a container image, for a Kubernetes DaemonSet.  Where no
# container engine or registry is at hand, `make image` builds the same
# image from Debian packages alone (scripts/build-image.sh).
#
# Privileges: the agent needs capabilities, not the root user.
#   CAP_BPF           load its BPF programs and create their maps
#   CAP_PERFMON       attach them to tracepoints (tp_btf or raw_tp)
#   CAP_SYS_PTRACE    read other processes: lock words and stacks with
#                     process_vm_readv, /proc/PID/{syscall,maps,root}
#   CAP_SYS_RESOURCE  only on kernels before 5.11, where BPF maps count
#                     against RLIMIT_MEMLOCK and libbpf raises it; later
#                     kernels charge them to the memory cgroup instead.
# Kubernetes gives a container no ambient capabilities, so a non-root
# process loses the ones the pod adds at execve, unless the binary carries
# them as file capabilities: /usr/bin/knotscope has the first three, =ep.
# They hold with allowPrivilegeEscalation: false (no_new_privs only keeps a
# process from gaining more than its runtime granted).  CAP_SYS_RESOURCE is
# left out of them, since execve fails when a file capability is missing
# from the bounding set: on 5.8 to 5.10 run the agent as UID 0 instead.
#
# The pod also needs hostPID: true and the host's /sys/kernel/btf; the
# host's /sys/fs/bpf only to pin, and no tracefs (tp_btf and raw_tp attach
# through bpf() alone).  readOnlyRootFilesystem: true is fine: the agent
# writes only where --json points.  helm/knotscope sets all of this up.

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/deps.sh scripts/
RUN scripts/deps.sh build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make -j"$(nproc)" all && strip build/knotscope

FROM debian:bookworm-slim
COPY --from=build /src/scripts/deps.sh /tmp/deps.sh
COPY --from=build /src/build/knotscope /usr/bin/knotscope
# setcap after COPY: COPY does not carry file capabilities over.
RUN apt-get update -qq \
	&& /tmp/deps.sh runtime \
	&& apt-get install -y -qq --no-install-recommends libcap2-bin \
	&& setcap cap_bpf,cap_perfmon,cap_sys_ptrace+ep /usr/bin/knotscope \
	&& apt-get purge -y -qq --auto-remove libcap2-bin \
	&& rm -rf /var/lib/apt/lists/* /tmp/deps.sh
USER 65534:65534
ENTRYPOINT ["/usr/bin/knotscope"]
