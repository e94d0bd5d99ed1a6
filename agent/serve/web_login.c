// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "serve/web_login.h"

struct ks_session {
	char id[KS_SESSION_ID_LEN + 1];
	uint64_t expires_mono_ns; /* 0: free */
};

struct ks_sessions {
	pthread_mutex_t lock;
	struct ks_session slots[KS_MAX_SESSIONS];
};

struct ks_sessions *ks_sessions_new(void)
{
	struct ks_sessions *sessions = calloc(1, sizeof(*sessions));

	if (sessions)
		pthread_mutex_init(&sessions->lock, NULL);
	return sessions;
}

void ks_sessions_free(struct ks_sessions *sessions)
{
	if (!sessions)
		return;
	pthread_mutex_destroy(&sessions->lock);
	explicit_bzero(sessions, sizeof(*sessions));
	free(sessions);
}

int ks_sessions_open(struct ks_sessions *sessions, uint64_t now_mono_ns,
		     char id[KS_SESSION_ID_LEN + 1])
{
	unsigned char bytes[KS_SESSION_ID_LEN / 2];
	struct ks_session *slot;

	if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes))
		return -EIO;
	for (size_t i = 0; i < sizeof(bytes); i++)
		snprintf(id + 2 * i, 3, "%02x", bytes[i]);
	pthread_mutex_lock(&sessions->lock);
	/* A free or expired slot, else the one closest to expiring. */
	slot = &sessions->slots[0];
	for (int i = 1; i < KS_MAX_SESSIONS; i++)
		if (sessions->slots[i].expires_mono_ns < slot->expires_mono_ns)
			slot = &sessions->slots[i];
	memcpy(slot->id, id, KS_SESSION_ID_LEN + 1);
	slot->expires_mono_ns = now_mono_ns + KS_SESSION_TTL_S * 1000000000ull;
	pthread_mutex_unlock(&sessions->lock);
	return 0;
}

/* Compares in time that does not depend on where they differ. */
static bool ks_same_id(const char *given, const char *id)
{
	unsigned char diff = 0;

	for (int i = 0; i < KS_SESSION_ID_LEN; i++)
		diff |= (unsigned char)given[i] ^ (unsigned char)id[i];
	return !diff;
}

static struct ks_session *ks_find(struct ks_sessions *sessions, const char *id)
{
	if (!id || strlen(id) != KS_SESSION_ID_LEN)
		return NULL;
	for (int i = 0; i < KS_MAX_SESSIONS; i++)
		if (sessions->slots[i].expires_mono_ns &&
		    ks_same_id(id, sessions->slots[i].id))
			return &sessions->slots[i];
	return NULL;
}

bool ks_sessions_valid(struct ks_sessions *sessions, const char *id,
		       uint64_t now_mono_ns)
{
	struct ks_session *session;
	bool valid;

	pthread_mutex_lock(&sessions->lock);
	session = ks_find(sessions, id);
	valid = session && now_mono_ns < session->expires_mono_ns;
	pthread_mutex_unlock(&sessions->lock);
	return valid;
}

void ks_sessions_close(struct ks_sessions *sessions, const char *id)
{
	struct ks_session *session;

	pthread_mutex_lock(&sessions->lock);
	session = ks_find(sessions, id);
	if (session)
		memset(session, 0, sizeof(*session));
	pthread_mutex_unlock(&sessions->lock);
}

void ks_session_cookie(const char *id, char *buf, size_t size)
{
	/* No Secure: the agent serves plain HTTP (a port-forward to it). */
	snprintf(buf, size,
		 "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d",
		 KS_SESSION_COOKIE, id ? id : "", id ? KS_SESSION_TTL_S : 0);
}

const char *ks_login_page(bool failed)
{
#define KS_LOGIN_PAGE(message)                                          \
	"<!DOCTYPE html>\n"                                             \
	"<html lang=\"en\"><head><meta charset=\"utf-8\">"              \
	"<meta name=\"viewport\" content=\"width=device-width, "        \
	"initial-scale=1\">"                                            \
	"<title>knotscope: log in</title>"                              \
	"<link rel=\"stylesheet\" href=\"/app.css\"></head>\n"          \
	"<body class=\"login\"><header><h1>knotscope</h1></header>\n"   \
	"<main><form id=\"login\" method=\"post\" action=\"/login\">"   \
	"<h2>Log in</h2>" message                                       \
	"<label>Token <input type=\"password\" name=\"token\" "         \
	"autocomplete=\"current-password\" required autofocus></label>" \
	"<button type=\"submit\">Log in</button>"                       \
	"<p class=\"hint\">The bearer token of this agent "             \
	"(--listen-token-file): the chart keeps it in a Secret.</p>"    \
	"</form></main></body></html>\n"

	return failed ? KS_LOGIN_PAGE("<p id=\"login-failed\" class=\"error\">"
				      "That is not the token.</p>") :
			KS_LOGIN_PAGE("");
#undef KS_LOGIN_PAGE
}
