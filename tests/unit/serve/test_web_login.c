// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Sessions a login opens: random, bounded, expiring, closable. */
#include <stdio.h>

#include "unit.h"

#include "serve/web_login.h"

#define S 1000000000ull

static void test_open_check_close(void **state)
{
	struct ks_sessions *sessions = ks_sessions_new();
	char a[KS_SESSION_ID_LEN + 1], b[KS_SESSION_ID_LEN + 1];

	assert_int_equal(ks_sessions_open(sessions, 10 * S, a), 0);
	assert_int_equal(ks_sessions_open(sessions, 10 * S, b), 0);
	assert_int_equal(strlen(a), KS_SESSION_ID_LEN);
	assert_string_not_equal(a, b);
	assert_true(ks_sessions_valid(sessions, a, 11 * S));
	assert_true(ks_sessions_valid(sessions, b, 11 * S));
	/* A prefix, a changed digit, nothing: no session. */
	assert_false(ks_sessions_valid(sessions, "", 11 * S));
	assert_false(ks_sessions_valid(sessions, NULL, 11 * S));
	b[KS_SESSION_ID_LEN - 1] ^= 1;
	assert_false(ks_sessions_valid(sessions, b, 11 * S));
	b[KS_SESSION_ID_LEN - 1] ^= 1;
	ks_sessions_close(sessions, a);
	assert_false(ks_sessions_valid(sessions, a, 11 * S));
	assert_true(ks_sessions_valid(sessions, b, 11 * S));
	/* Expired after its time to live. */
	assert_false(
		ks_sessions_valid(sessions, b, (10 + KS_SESSION_TTL_S) * S));
	ks_sessions_free(sessions);
}

static void test_oldest_goes_when_full(void **state)
{
	struct ks_sessions *sessions = ks_sessions_new();
	char first[KS_SESSION_ID_LEN + 1], id[KS_SESSION_ID_LEN + 1];

	assert_int_equal(ks_sessions_open(sessions, 1 * S, first), 0);
	for (int i = 0; i < KS_MAX_SESSIONS - 1; i++)
		assert_int_equal(ks_sessions_open(sessions, (2 + i) * S, id),
				 0);
	assert_true(ks_sessions_valid(sessions, first, 100 * S));
	assert_int_equal(ks_sessions_open(sessions, 200 * S, id), 0);
	assert_false(ks_sessions_valid(sessions, first, 200 * S));
	assert_true(ks_sessions_valid(sessions, id, 200 * S));
	ks_sessions_free(sessions);
}

static void test_cookie(void **state)
{
	char cookie[256];

	ks_session_cookie("ab12", cookie, sizeof(cookie));
	assert_string_equal(cookie, "knotscope_session=ab12; Path=/; HttpOnly; "
				    "SameSite=Strict; Max-Age=43200");
	ks_session_cookie(NULL, cookie, sizeof(cookie));
	assert_string_equal(cookie, "knotscope_session=; Path=/; HttpOnly; "
				    "SameSite=Strict; Max-Age=0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_check_close),
		cmocka_unit_test(test_oldest_goes_when_full),
		cmocka_unit_test(test_cookie),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
