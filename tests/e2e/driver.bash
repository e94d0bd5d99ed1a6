# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The OTLP export layer driven without BPF (tests/otlp/otlp_driver), for
# the tests that check it against a receiver: loaded after helpers.bash,
# whose expect_accounted it replaces with the driver's own counters.

setup() {
	e2e_setup
	DRIVER="$ROOT/build/tests/otlp/otlp_driver"
	STATS="$BATS_TEST_TMPDIR/stats.json"
}

run_driver() {
	"$DRIVER" "$@" >"$STATS" 2>"$BATS_TEST_TMPDIR/driver.log" || {
		cat "$BATS_TEST_TMPDIR/driver.log" >&2
		return 1
	}
}

# The value of a jq filter over the driver's counters.
stat() {
	jq -r "$1" "$STATS"
}


# produced = exported + rejected + dropped_queue_full + failed
#            + dropped_shutdown + queued + exporting, for every signal,
# and nothing is left queued or in flight once the driver has stopped.
expect_accounted() {
	local signal

	for signal in traces metrics logs; do
		jq -e --arg s "$signal" '.[$s] |
			.produced == .exported + .rejected +
				.dropped_queue_full + ([.failed[]] | add) +
				.dropped_shutdown + .queued + .exporting
			and .queued == 0 and .exporting == 0
			and .queue_depth == 0' "$STATS" >/dev/null || {
			echo "$signal does not add up:" >&2
			jq ".$signal" "$STATS" >&2
			return 1
		}
	done
}

# make_tls DIR: a test CA (ca.pem), a server certificate for 127.0.0.1
# (server.pem, server.key) and a client certificate (client.pem,
# client.key) it signed, in DIR.
make_tls() {
	local dir=$1

	mkdir -p "$dir"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
		-addext subjectAltName=IP:127.0.0.1 \
		-keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
	openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" \
		-CAkey "$dir/ca.key" -CAcreateserial -days 1 \
		-copy_extensions copy -out "$dir/server.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=knotscope \
		-keyout "$dir/client.key" -out "$dir/client.csr" 2>/dev/null
	openssl x509 -req -in "$dir/client.csr" -CA "$dir/ca.pem" \
		-CAkey "$dir/ca.key" -CAcreateserial -days 1 \
		-out "$dir/client.pem" 2>/dev/null
}
