// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/fd_peek.h"
#include "base/proc.h"
#include "base/small_file.h"

bool ks_cgroup_v1_mounted(const char *proc_cgroups, const char *controller)
{
	size_t len = strlen(controller);
	const char *line = proc_cgroups;

	while (line && *line) {
		unsigned int hierarchy;

		if (!strncmp(line, controller, len) &&
		    (line[len] == '\t' || line[len] == ' ') &&
		    sscanf(line + len, "%u", &hierarchy) == 1)
			return hierarchy != 0;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

/*
 * Whether a socket may be duplicated without changing it.  The kernel
 * gives a socket passed to another process that process's cgroup v1
 * net_cls class id and net_prio index (__receive_sock()); nobody uses
 * them unless those controllers are mounted, on a hierarchy of their own
 * (/proc/cgroups: hierarchy 0 means not mounted).
 */
static bool ks_sockets_unmarked_by_dup(void)
{
	static int allowed = -1;
	char path[128], text[4096];

	if (allowed >= 0)
		return allowed;
	snprintf(path, sizeof(path), "%s/cgroups", ks_proc_root());
	allowed = ks_read_small_file(path, text, sizeof(text)) >= 0 &&
		  !ks_cgroup_v1_mounted(text, "net_cls") &&
		  !ks_cgroup_v1_mounted(text, "net_prio");
	return allowed;
}

static bool ks_timeout_set(int fd, int option)
{
	struct timeval tv = { 0 };
	socklen_t len = sizeof(tv);

	if (getsockopt(fd, SOL_SOCKET, option, &tv, &len))
		return false;
	return tv.tv_sec || tv.tv_usec;
}

static int ks_sockopt_int(int fd, int option)
{
	socklen_t len = sizeof(int);
	int value = -1;

	if (getsockopt(fd, SOL_SOCKET, option, &value, &len))
		return -1;
	return value;
}

static void ks_peek_socket(int fd, struct ks_peeked_file *out, int *netns_fd)
{
	out->domain = ks_sockopt_int(fd, SO_DOMAIN);
	out->type = ks_sockopt_int(fd, SO_TYPE);
	out->protocol = ks_sockopt_int(fd, SO_PROTOCOL);
	out->listening = ks_sockopt_int(fd, SO_ACCEPTCONN) == 1;
	out->recv_timeout = ks_timeout_set(fd, SO_RCVTIMEO);
	out->send_timeout = ks_timeout_set(fd, SO_SNDTIMEO);
	if (ioctl(fd, SIOCINQ, &out->in_queue))
		out->in_queue = -1;
	if (ioctl(fd, SIOCOUTQ, &out->out_queue))
		out->out_queue = -1;
	out->local_len = sizeof(out->local);
	if (getsockname(fd, (struct sockaddr *)&out->local, &out->local_len))
		out->local_len = 0;
	out->remote_len = sizeof(out->remote);
	if (getpeername(fd, (struct sockaddr *)&out->remote, &out->remote_len))
		out->remote_len = 0;
	if (netns_fd)
		*netns_fd = ioctl(fd, SIOCGSKNS);
}

int ks_fd_peek(uint32_t tgid, int fd, struct ks_peeked_file *out, int *netns_fd)
{
	int pidfd, copy = -1, ret = 0;
	char path[128];
	struct stat st;

	memset(out, 0, sizeof(*out));
	out->in_queue = out->out_queue = -1;
	if (netns_fd)
		*netns_fd = -1;
	snprintf(path, sizeof(path), "%s/%u/fd/%d", ks_proc_root(), tgid, fd);
	if (stat(path, &st))
		return -errno;
	if (S_ISSOCK(st.st_mode) && !ks_sockets_unmarked_by_dup())
		return -ENOTSUP;
	pidfd = pidfd_open((pid_t)tgid, 0);
	if (pidfd < 0)
		return -errno;
	copy = pidfd_getfd(pidfd, fd, 0);
	if (copy < 0 || fstat(copy, &st)) {
		ret = -errno;
		goto cleanup;
	}
	out->dev = st.st_dev;
	out->inode = st.st_ino;
	out->mode = st.st_mode;
	out->flags = (unsigned int)fcntl(copy, F_GETFL);
	if (S_ISFIFO(st.st_mode)) {
		if (ioctl(copy, FIONREAD, &out->pipe_bytes))
			out->pipe_bytes = -1;
		out->pipe_size = fcntl(copy, F_GETPIPE_SZ);
	} else if (S_ISSOCK(st.st_mode)) {
		ks_peek_socket(copy, out, netns_fd);
	}
cleanup:
	if (copy >= 0)
		close(copy);
	close(pidfd);
	return ret;
}
