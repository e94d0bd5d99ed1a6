/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A browser's way past the bearer token: a login form posts the token
 * once, and the server answers with a session cookie (HttpOnly, so the
 * page's script never holds it; SameSite=Strict, so no other site's page
 * makes the browser send it) that stands for the token until it expires,
 * the user logs out, or the agent restarts.  The cookie holds a random
 * session id, never the token.
 *
 * Sessions live in a small table under a mutex, shared by the server's
 * connection threads: at most KS_MAX_SESSIONS, the oldest replaced.
 */
#ifndef KS_WEB_LOGIN_H
#define KS_WEB_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KS_SESSION_COOKIE "knotscope_session"
/* 256 random bits, in hex. */
#define KS_SESSION_ID_LEN 64
#define KS_MAX_SESSIONS 64
#define KS_SESSION_TTL_S (12 * 3600)

struct ks_sessions;

struct ks_sessions *ks_sessions_new(void);
void ks_sessions_free(struct ks_sessions *sessions);

/* A new session's id, 0; or -errno when no randomness could be had. */
int ks_sessions_open(struct ks_sessions *sessions, uint64_t now_mono_ns,
		     char id[KS_SESSION_ID_LEN + 1]);
/* Whether id names a session that has not expired at now. */
bool ks_sessions_valid(struct ks_sessions *sessions, const char *id,
		       uint64_t now_mono_ns);
void ks_sessions_close(struct ks_sessions *sessions, const char *id);

/* The Set-Cookie value that opens (id) or ends (NULL) a session. */
void ks_session_cookie(const char *id, char *buf, size_t size);

/* The login form; failed adds that the token was wrong. */
const char *ks_login_page(bool failed);

#endif /* KS_WEB_LOGIN_H */
