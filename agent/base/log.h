/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Human-readable diagnostics on stderr; machine output goes to the JSON sink. */
#ifndef KS_LOG_H
#define KS_LOG_H

enum ks_log_level {
	KS_LOG_ERROR = 0,
	KS_LOG_WARN,
	KS_LOG_INFO,
	KS_LOG_DEBUG, /* -v */
	KS_LOG_TRACE, /* -vv */
};

void ks_log_set_level(enum ks_log_level level);
enum ks_log_level ks_log_get_level(void);
void ks_log(enum ks_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define ks_err(...) ks_log(KS_LOG_ERROR, __VA_ARGS__)
#define ks_warn(...) ks_log(KS_LOG_WARN, __VA_ARGS__)
#define ks_info(...) ks_log(KS_LOG_INFO, __VA_ARGS__)
#define ks_debug(...) ks_log(KS_LOG_DEBUG, __VA_ARGS__)
#define ks_trace(...) ks_log(KS_LOG_TRACE, __VA_ARGS__)

/* Routes libbpf's own messages through ks_log at matching levels. */
void ks_log_install_libbpf(void);

#endif /* KS_LOG_H */
