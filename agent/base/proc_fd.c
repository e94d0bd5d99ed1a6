// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/proc.h"
#include "base/proc_fd.h"
#include "base/small_file.h"

/* "pipe:[123]" style links: the inode between the brackets. */
static bool ks_bracketed_inode(const char *text, const char *prefix,
			       uint64_t *inode)
{
	size_t len = strlen(prefix);
	char *end;

	if (strncmp(text, prefix, len) || text[len] != '[')
		return false;
	errno = 0;
	*inode = strtoull(text + len + 1, &end, 10);
	return !errno && end != text + len + 1 && end[0] == ']' && !end[1];
}

void ks_fd_link_parse(const char *text, struct ks_fd_link *out)
{
	memset(out, 0, sizeof(*out));
	if (ks_bracketed_inode(text, "pipe:", &out->inode))
		out->type = KS_FD_PIPE;
	else if (ks_bracketed_inode(text, "socket:", &out->inode))
		out->type = KS_FD_SOCKET;
	else if (text[0] == '/')
		out->type = KS_FD_PATH;
}

static void ks_fd_path(char *path, size_t size, uint32_t tgid, const char *dir,
		       int fd)
{
	snprintf(path, size, "%s/%u/%s/%d", ks_proc_root(), tgid, dir, fd);
}

/* readlink(2) of /proc/TGID/fd/FD, NUL-terminated; -1 when unreadable. */
static int ks_read_link(const char *path, char *buf, size_t size)
{
	ssize_t len = readlink(path, buf, size - 1);

	if (len < 0)
		return -1;
	buf[len] = '\0';
	return 0;
}

int ks_proc_read_fd_link(uint32_t tgid, int fd, struct ks_fd_link *out)
{
	char path[128], link[256];

	ks_fd_path(path, sizeof(path), tgid, "fd", fd);
	if (ks_read_link(path, link, sizeof(link)))
		return -1;
	ks_fd_link_parse(link, out);
	return 0;
}

int ks_proc_stat_fd(uint32_t tgid, int fd, uint64_t *dev, uint64_t *inode,
		    unsigned int *mode)
{
	char path[128];
	struct stat st;

	ks_fd_path(path, sizeof(path), tgid, "fd", fd);
	if (stat(path, &st))
		return -1;
	*dev = st.st_dev;
	*inode = st.st_ino;
	*mode = st.st_mode;
	return 0;
}

int ks_proc_read_fd_flags(uint32_t tgid, int fd, unsigned int *flags)
{
	char path[128], text[4096];
	const char *value;

	ks_fd_path(path, sizeof(path), tgid, "fdinfo", fd);
	if (ks_read_small_file(path, text, sizeof(text)) < 0)
		return -1;
	value = ks_status_field(text, "flags");
	if (!value)
		return -1;
	*flags = (unsigned int)strtoul(value, NULL, 8);
	return 0;
}

static bool ks_parse_target(const char *line, struct ks_epoll_target *t)
{
	const char *ino = strstr(line, " ino:");
	unsigned int events;
	int fd;

	if (sscanf(line, "tfd: %d events: %x", &fd, &events) != 2)
		return false;
	t->fd = fd;
	t->events = events;
	t->inode = ino ? strtoull(ino + strlen(" ino:"), NULL, 16) : 0;
	return true;
}

int ks_epoll_targets_parse(const char *text, struct ks_epoll_target *out,
			   size_t max)
{
	const char *line = text;
	int count = 0;

	while (line && *line) {
		struct ks_epoll_target target;

		if (!strncmp(line, "tfd:", 4) &&
		    ks_parse_target(line, &target)) {
			if ((size_t)count < max)
				out[count] = target;
			count++;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return count;
}

int ks_proc_read_epoll_targets(uint32_t tgid, int epfd,
			       struct ks_epoll_target *out, size_t max)
{
	char path[128], link[64], text[8192];
	int len;

	ks_fd_path(path, sizeof(path), tgid, "fd", epfd);
	if (ks_read_link(path, link, sizeof(link)) ||
	    strcmp(link, "anon_inode:[eventpoll]"))
		return -1;
	ks_fd_path(path, sizeof(path), tgid, "fdinfo", epfd);
	len = ks_read_small_file(path, text, sizeof(text));
	/* A full buffer may have left targets out: too many to matter. */
	if (len < 0 || (size_t)len == sizeof(text) - 1)
		return -1;
	return ks_epoll_targets_parse(text, out, max);
}

int ks_proc_for_each_fd(uint32_t tgid, uint32_t tid, ks_proc_fd_fn fn,
			void *ctx)
{
	char path[128], link[256];
	struct dirent *entry;
	int dir_fd, ret = 0;
	DIR *dir;

	if (tid)
		snprintf(path, sizeof(path), "%s/%u/task/%u/fd", ks_proc_root(),
			 tgid, tid);
	else
		snprintf(path, sizeof(path), "%s/%u/fd", ks_proc_root(), tgid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	dir_fd = dirfd(dir);
	while (!ret && (entry = readdir(dir))) {
		struct ks_fd_link parsed;
		ssize_t len;
		char *end;
		long fd = strtol(entry->d_name, &end, 10);

		if (*end || end == entry->d_name)
			continue;
		/* Relative to the open directory: no path walk per fd. */
		len = readlinkat(dir_fd, entry->d_name, link, sizeof(link) - 1);
		if (len < 0)
			continue; /* closed meanwhile */
		link[len] = '\0';
		ks_fd_link_parse(link, &parsed);
		ret = fn((int)fd, &parsed, ctx);
	}
	closedir(dir);
	return ret;
}
