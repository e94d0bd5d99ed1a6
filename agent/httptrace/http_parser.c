// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stddef.h>
#include <string.h>

#include "httptrace/http_parser.h"

enum parser_state {
	ST_HUNT, /* skipping: a message may start with the next syscall */
	ST_NOT_HTTP,
	ST_CLOSED,
	ST_IDLE, /* in sync, between messages */
	ST_METHOD,
	ST_TARGET,
	ST_VERSION, /* "HTTP/1.x", then SP in a status line */
	ST_REQUEST_LINE_END,
	ST_STATUS,
	ST_REASON,
	ST_FIELD_START,
	ST_FIELD_NAME,
	ST_FIELD_VALUE,
	ST_BODY_LENGTH,
	ST_BODY_UNTIL_CLOSE,
	ST_CHUNK_SIZE,
	ST_CHUNK_EXT,
	ST_CHUNK_DATA,
	ST_CHUNK_DATA_END,
	ST_TRAILER_START,
	ST_TRAILER_LINE,
};

/* parser->head_state: what the head said, until the framing is decided. */
enum head_state {
	HEAD_QUERY = 1u << 0, /* a '?' went by in the request-target */
	HEAD_FRAMING_INVALID = 1u << 1,
	HEAD_TRANSFER_ENCODING = 1u << 2,
	HEAD_CHUNKED_LAST = 1u << 3,
	HEAD_CONNECTION_CLOSE = 1u << 4,
	HEAD_KEEP_ALIVE = 1u << 5,
	HEAD_TRACESTATE_DROPPED = 1u << 6,
	HEAD_HOST = 1u << 7,
	HEAD_TRACEPARENT = 1u << 8,
};

enum framing {
	FRAMING_NONE,
	FRAMING_LENGTH,
	FRAMING_CHUNKED,
	FRAMING_UNTIL_CLOSE,
	FRAMING_TUNNEL,
	FRAMING_LOST,
};

/* What the framing tells the caller about the body. */
static const uint32_t framing_flags[] = {
	[FRAMING_CHUNKED] = KS_HTTP_MSG_CHUNKED,
	[FRAMING_UNTIL_CLOSE] = KS_HTTP_MSG_UNTIL_CLOSE,
	[FRAMING_TUNNEL] = KS_HTTP_MSG_TUNNEL,
	[FRAMING_LOST] = 0,
};

/* Chunk sizes beyond 2^60 are junk, and keep the sums from overflowing. */
#define CHUNK_SIZE_DIGITS_MAX 15

static const char version_prefix[] = "HTTP/1.";
#define VERSION_PREFIX_LEN (sizeof(version_prefix) - 1)

static const struct {
	const char *name;
	enum ks_http_method method;
} known_methods[] = {
	{ "GET", KS_HTTP_METHOD_GET },
	{ "HEAD", KS_HTTP_METHOD_HEAD },
	{ "POST", KS_HTTP_METHOD_POST },
	{ "PUT", KS_HTTP_METHOD_PUT },
	{ "DELETE", KS_HTTP_METHOD_DELETE },
	{ "CONNECT", KS_HTTP_METHOD_CONNECT },
	{ "OPTIONS", KS_HTTP_METHOD_OPTIONS },
	{ "TRACE", KS_HTTP_METHOD_TRACE },
	{ "PATCH", KS_HTTP_METHOD_PATCH },
};

static enum ks_http_method method_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(known_methods) / sizeof(known_methods[0]);
	     i++)
		if (!strcmp(known_methods[i].name, name))
			return known_methods[i].method;
	return KS_HTTP_METHOD_OTHER;
}

/*
 * Methods are tokens, but in practice upper case letters (WebDAV adds '-'):
 * accepting only those rejects binary protocols within a byte or two.
 */
static bool is_method_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

/* RFC 9110 5.6.2 tchar: a table, since names are checked byte by byte. */
static const bool tchars[256] = {
	['0' ... '9'] = true, ['a' ... 'z'] = true, ['A' ... 'Z'] = true,
	['!'] = true,	      ['#'] = true,	    ['$'] = true,
	['%'] = true,	      ['&'] = true,	    ['\''] = true,
	['*'] = true,	      ['+'] = true,	    ['-'] = true,
	['.'] = true,	      ['^'] = true,	    ['_'] = true,
	['`'] = true,	      ['|'] = true,	    ['~'] = true,
};

static bool is_tchar(uint8_t c)
{
	return tchars[c];
}

/* Visible ASCII and obs-text: what a request-target or token may hold. */
static bool is_visible(uint8_t c)
{
	return (c > 0x20 && c < 0x7f) || c >= 0x80;
}

/* Field values, reason phrases, chunk extensions: VCHAR, obs-text, SP, HTAB. */
static bool is_text(uint8_t c)
{
	return is_visible(c) || c == ' ' || c == '\t';
}

/*
 * How many bytes from the start of data, up to len, are text: eight at a
 * time while a word holds no control character (HTAB included, which the
 * bytes after take) and no DEL, then one at a time.  A field value or a
 * reason phrase is mostly such words.
 */
static size_t text_run(const uint8_t *data, size_t len)
{
	const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;
	size_t n = 0;
	uint64_t word, del;

	for (; n + sizeof(word) <= len; n += sizeof(word)) {
		memcpy(&word, data + n, sizeof(word));
		del = word ^ (ones * 0x7f);
		/* The high bit of a byte below 0x20, or of a DEL. */
		if (((word - ones * 0x20) & ~word & highs) |
		    ((del - ones) & ~del & highs))
			break;
	}
	while (n < len && is_text(data[n]))
		n++;
	return n;
}

/* origin-form, asterisk-form, absolute-form or authority-form. */
static bool is_target_start(uint8_t c)
{
	return c == '/' || c == '*' || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '[';
}

static int hex_digit(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void emit(struct ks_http_parser *p, enum ks_http_event event,
		 const struct ks_http_message *msg)
{
	p->on_event(p->ctx, event, msg);
}

enum start_guess {
	START_NONE,
	START_BLANK, /* only line ends, which may precede a message */
	START_PLAUSIBLE,
};

/*
 * Whether a syscall skipped into can begin a message: a cheap look at its
 * first bytes.  Data that ends while it still fits counts as plausible.
 */
static enum start_guess guess_start(enum ks_http_direction direction,
				    const uint8_t *data, size_t len)
{
	size_t i = 0, method_len = 0;

	/* RFC 9112 2.2: empty lines may precede a message. */
	while (i < len && (data[i] == '\r' || data[i] == '\n'))
		i++;
	if (i == len)
		return len ? START_BLANK : START_NONE;
	if (direction == KS_HTTP_RESPONSES) {
		for (size_t j = 0; i < len && j < VERSION_PREFIX_LEN; i++, j++)
			if (data[i] != (uint8_t)version_prefix[j])
				return START_NONE;
		return i >= len || (data[i] >= '0' && data[i] <= '9') ?
			       START_PLAUSIBLE :
			       START_NONE;
	}
	while (i < len && is_method_char(data[i]) &&
	       method_len < KS_HTTP_METHOD_MAX) {
		i++;
		method_len++;
	}
	if (i >= len)
		return START_PLAUSIBLE;
	if (!method_len || data[i] != ' ')
		return START_NONE;
	return i + 1 >= len || is_target_start(data[i + 1]) ? START_PLAUSIBLE :
							      START_NONE;
}

static void begin_message(struct ks_http_parser *p, uint64_t ts_ns)
{
	memset(&p->msg, 0, offsetof(struct ks_http_message, method_name));
	p->msg.method_name[0] = '\0';
	p->msg.target[0] = '\0';
	p->msg.host[0] = '\0';
	p->msg.tracestate[0] = '\0';
	p->msg.start_ns = ts_ns;
	p->msg.end_ns = ts_ns;
	p->msg.version_minor = 1;
	p->head_state = 0;
	p->section_bytes = 0;
	p->match = 0;
	p->name_len = 0;
	p->state = p->direction == KS_HTTP_REQUESTS ? ST_METHOD : ST_VERSION;
}

static void hunt(struct ks_http_parser *p)
{
	p->state = ST_HUNT;
	p->cr = false;
}

/* A stream that never showed HTTP gets a few syscalls to do so. */
static void probe_failed(struct ks_http_parser *p)
{
	if (p->confirmed || ++p->probes < KS_HTTP_PROBE_SYSCALLS)
		return;
	p->state = ST_NOT_HTTP;
	emit(p, KS_HTTP_EV_NOT_HTTP, NULL);
}

/* A message start that did not hold up, while skipping or in sync. */
static void start_failed(struct ks_http_parser *p)
{
	hunt(p);
	if (p->probing)
		probe_failed(p);
	else
		emit(p, KS_HTTP_EV_DESYNC, NULL);
}

static void end_message(struct ks_http_parser *p, enum ks_http_event event)
{
	p->in_message = false;
	emit(p, event, &p->msg);
}

static void lose_framing(struct ks_http_parser *p)
{
	p->msg.flags |= KS_HTTP_MSG_END_GUESSED;
	emit(p, KS_HTTP_EV_DESYNC, &p->msg);
	hunt(p);
}

/* Bytes that break the syntax, wherever in a message they are. */
static void syntax_error(struct ks_http_parser *p)
{
	if (!p->in_message) {
		start_failed(p);
	} else if (!(p->msg.flags & KS_HTTP_MSG_HEAD_SEEN)) {
		end_message(p, KS_HTTP_EV_ABORT);
		hunt(p);
	} else {
		lose_framing(p);
	}
}

static void complete(struct ks_http_parser *p)
{
	end_message(p, KS_HTTP_EV_COMPLETE);
	p->state = ST_IDLE;
}

static void start_line_done(struct ks_http_parser *p)
{
	p->in_message = true;
	p->confirmed = true;
	p->probing = false;
	p->state = ST_FIELD_START;
}

static void trim_value(struct ks_http_parser *p)
{
	while (p->value_len && (p->value[p->value_len - 1] == ' ' ||
				p->value[p->value_len - 1] == '\t'))
		p->value_len--;
}

static void apply_content_length(struct ks_http_parser *p)
{
	uint64_t length;

	if (p->value_overflow ||
	    !ks_http_content_length(p->value, p->value_len, &length) ||
	    ((p->msg.flags & KS_HTTP_MSG_CONTENT_LENGTH) &&
	     p->msg.content_length != length)) {
		p->head_state |= HEAD_FRAMING_INVALID;
		return;
	}
	p->msg.content_length = length;
	p->msg.flags |= KS_HTTP_MSG_CONTENT_LENGTH;
}

static void apply_transfer_encoding(struct ks_http_parser *p)
{
	struct ks_http_list list;
	const char *coding, *last = NULL;
	size_t len, last_len = 0;

	if (p->value_overflow)
		p->head_state |= HEAD_FRAMING_INVALID;
	ks_http_list_init(&list, p->value, p->value_len);
	while (ks_http_list_next(&list, &coding, &len)) {
		last = coding;
		last_len = len;
	}
	/* Fields add up to one list: only its very last coding counts. */
	if (!last)
		return;
	p->head_state |= HEAD_TRANSFER_ENCODING;
	if (ks_http_token_is(last, last_len, "chunked"))
		p->head_state |= HEAD_CHUNKED_LAST;
	else
		p->head_state &= ~HEAD_CHUNKED_LAST;
}

static void apply_connection(struct ks_http_parser *p)
{
	struct ks_http_list list;
	const char *option;
	size_t len;

	ks_http_list_init(&list, p->value, p->value_len);
	while (ks_http_list_next(&list, &option, &len)) {
		if (ks_http_token_is(option, len, "close"))
			p->head_state |= HEAD_CONNECTION_CLOSE;
		else if (ks_http_token_is(option, len, "keep-alive"))
			p->head_state |= HEAD_KEEP_ALIVE;
	}
}

static void apply_expect(struct ks_http_parser *p)
{
	struct ks_http_list list;
	const char *expectation;
	size_t len;

	ks_http_list_init(&list, p->value, p->value_len);
	while (ks_http_list_next(&list, &expectation, &len))
		if (ks_http_token_is(expectation, len, "100-continue"))
			p->msg.flags |= KS_HTTP_MSG_EXPECT_CONTINUE;
}

static void apply_host(struct ks_http_parser *p)
{
	/* RFC 9112 3.2 allows one Host; later ones are not trusted. */
	if (p->head_state & HEAD_HOST)
		return;
	p->head_state |= HEAD_HOST;
	if (p->value_overflow || p->value_len > KS_HTTP_HOST_MAX)
		return;
	memcpy(p->msg.host, p->value, p->value_len);
	p->msg.host[p->value_len] = '\0';
	p->msg.host_len = p->value_len;
}

static void apply_traceparent(struct ks_http_parser *p)
{
	/* Trace Context: more than one traceparent makes it invalid. */
	if (p->head_state & HEAD_TRACEPARENT) {
		p->msg.flags &= ~KS_HTTP_MSG_TRACEPARENT;
		return;
	}
	p->head_state |= HEAD_TRACEPARENT;
	if (ks_traceparent_parse(p->value, p->value_len, &p->msg.traceparent))
		p->msg.flags |= KS_HTTP_MSG_TRACEPARENT;
}

/* Several tracestate fields join into one list, as RFC 9110 5.3 says. */
static void apply_tracestate(struct ks_http_parser *p)
{
	struct ks_http_message *msg = &p->msg;
	size_t sep = msg->tracestate_len && p->value_len ? 1 : 0;

	if (p->head_state & HEAD_TRACESTATE_DROPPED)
		return;
	if (p->value_overflow ||
	    msg->tracestate_len + sep + p->value_len > KS_TRACESTATE_MAX) {
		p->head_state |= HEAD_TRACESTATE_DROPPED;
		return;
	}
	if (sep)
		msg->tracestate[msg->tracestate_len++] = ',';
	memcpy(msg->tracestate + msg->tracestate_len, p->value, p->value_len);
	msg->tracestate_len += p->value_len;
}

static void apply_field(struct ks_http_parser *p)
{
	trim_value(p);
	switch ((enum ks_http_field)p->field) {
	case KS_HTTP_FIELD_HOST:
		apply_host(p);
		break;
	case KS_HTTP_FIELD_CONTENT_LENGTH:
		apply_content_length(p);
		break;
	case KS_HTTP_FIELD_TRANSFER_ENCODING:
		apply_transfer_encoding(p);
		break;
	case KS_HTTP_FIELD_CONNECTION:
		apply_connection(p);
		break;
	case KS_HTTP_FIELD_EXPECT:
		apply_expect(p);
		break;
	case KS_HTTP_FIELD_TRACEPARENT:
		apply_traceparent(p);
		break;
	case KS_HTTP_FIELD_TRACESTATE:
		apply_tracestate(p);
		break;
	case KS_HTTP_FIELD_OTHER:
		break;
	}
}

/*
 * Trace Context: tracestate only means something next to a valid
 * traceparent, and an invalid list is dropped whole.
 */
static void settle_tracestate(struct ks_http_message *msg, uint32_t head)
{
	if ((msg->flags & KS_HTTP_MSG_TRACEPARENT) &&
	    !(head & HEAD_TRACESTATE_DROPPED) && msg->tracestate_len &&
	    ks_tracestate_valid(msg->tracestate, msg->tracestate_len)) {
		msg->tracestate[msg->tracestate_len] = '\0';
		msg->flags |= KS_HTTP_MSG_TRACESTATE;
		return;
	}
	msg->tracestate_len = 0;
	msg->tracestate[0] = '\0';
}

static bool method_has_no_body(enum ks_http_method method)
{
	/* RFC 9110 gives a body to these no meaning; clients send none. */
	return method == KS_HTTP_METHOD_GET || method == KS_HTTP_METHOD_HEAD ||
	       method == KS_HTTP_METHOD_DELETE ||
	       method == KS_HTTP_METHOD_OPTIONS ||
	       method == KS_HTTP_METHOD_TRACE ||
	       method == KS_HTTP_METHOD_CONNECT;
}

/* RFC 9112 6.3, steps 1 and 2: what no header can give a body. */
static enum framing response_framing_by_status(const struct ks_http_message *m)
{
	if (m->status == 101 ||
	    (m->method == KS_HTTP_METHOD_CONNECT && m->status / 100 == 2))
		return FRAMING_TUNNEL;
	if (m->method == KS_HTTP_METHOD_HEAD || m->status / 100 == 1 ||
	    m->status == 204 || m->status == 304)
		return FRAMING_NONE;
	return FRAMING_LOST;
}

/* RFC 9112 6.3: how the receiver knows where the message ends. */
static enum framing decide_framing(const struct ks_http_parser *p)
{
	const struct ks_http_message *msg = &p->msg;
	bool request = p->direction == KS_HTTP_REQUESTS;
	enum framing by_status;

	if (!request) {
		by_status = response_framing_by_status(msg);
		if (by_status != FRAMING_LOST)
			return by_status;
	}
	if (msg->flags & KS_HTTP_MSG_HEAD_TRUNCATED) {
		/* Fields after the cut may change the framing: guess. */
		if (request && method_has_no_body(msg->method))
			return FRAMING_NONE;
		return FRAMING_LOST;
	}
	if (p->head_state & HEAD_TRANSFER_ENCODING) {
		/*
		 * Transfer-Encoding overrides Content-Length.  Not ending
		 * in chunked, a response runs until the close; a request
		 * cannot be framed at all.
		 */
		if (p->head_state & HEAD_CHUNKED_LAST)
			return FRAMING_CHUNKED;
		return request ? FRAMING_LOST : FRAMING_UNTIL_CLOSE;
	}
	if (p->head_state & HEAD_FRAMING_INVALID)
		return FRAMING_LOST;
	if (msg->flags & KS_HTTP_MSG_CONTENT_LENGTH)
		return msg->content_length ? FRAMING_LENGTH : FRAMING_NONE;
	return request ? FRAMING_NONE : FRAMING_UNTIL_CLOSE;
}

static enum ks_http_method pop_expected_method(struct ks_http_parser *p)
{
	enum ks_http_method method;

	if (!p->pending_count)
		return KS_HTTP_METHOD_UNKNOWN;
	method = p->pending_methods[p->pending_first];
	p->pending_first = (p->pending_first + 1) % KS_HTTP_PIPELINE_MAX;
	p->pending_count--;
	return method;
}

static void expect_chunk_size(struct ks_http_parser *p)
{
	p->state = ST_CHUNK_SIZE;
	p->section_bytes = 0;
	p->match = 0;
	p->remaining = 0;
}

/* After the head: an interim response is over, a message opens. */
static void head_done(struct ks_http_parser *p, uint64_t ts_ns)
{
	struct ks_http_message *msg = &p->msg;
	bool truncated = msg->flags & KS_HTTP_MSG_HEAD_TRUNCATED;
	enum framing framing;

	msg->head_end_ns = ts_ns;
	if (p->direction == KS_HTTP_RESPONSES && msg->status / 100 == 1 &&
	    msg->status != 101) {
		end_message(p, KS_HTTP_EV_INTERIM);
		/* The final response may have been in the unseen bytes. */
		if (truncated)
			hunt(p);
		else
			p->state = ST_IDLE;
		return;
	}
	if (p->direction == KS_HTTP_RESPONSES)
		msg->method = pop_expected_method(p);
	if ((p->head_state & HEAD_CONNECTION_CLOSE) ||
	    (msg->version_minor == 0 && !(p->head_state & HEAD_KEEP_ALIVE)))
		msg->flags |= KS_HTTP_MSG_CLOSE;
	settle_tracestate(msg, p->head_state);

	framing = decide_framing(p);
	msg->flags |= KS_HTTP_MSG_HEAD_SEEN | framing_flags[framing];
	emit(p, KS_HTTP_EV_HEAD, msg);
	switch (framing) {
	case FRAMING_NONE:
		complete(p);
		break;
	case FRAMING_LENGTH:
		p->remaining = msg->content_length;
		p->state = ST_BODY_LENGTH;
		break;
	case FRAMING_CHUNKED:
		expect_chunk_size(p);
		break;
	case FRAMING_UNTIL_CLOSE:
		p->state = ST_BODY_UNTIL_CLOSE;
		break;
	case FRAMING_TUNNEL:
		end_message(p, KS_HTTP_EV_COMPLETE);
		p->state = ST_NOT_HTTP;
		break;
	case FRAMING_LOST:
		/* A cut head is expected with small captures: no desync. */
		if (!truncated) {
			lose_framing(p);
			break;
		}
		msg->flags |= KS_HTTP_MSG_END_GUESSED;
		hunt(p);
		break;
	}
}

/* p->match counts the method's bytes until the version needs it. */
static void parse_method(struct ks_http_parser *p, uint8_t c)
{
	struct ks_http_message *msg = &p->msg;

	if (c == ' ' && p->match) {
		msg->method = method_lookup(msg->method_name);
		p->match = 0;
		p->state = ST_TARGET;
	} else if (is_method_char(c) && p->match < KS_HTTP_METHOD_MAX) {
		msg->method_name[p->match++] = (char)c;
		msg->method_name[p->match] = '\0';
	} else {
		syntax_error(p);
	}
}

static bool target_started(const struct ks_http_message *msg)
{
	return msg->target_len || (msg->flags & KS_HTTP_MSG_TARGET_TRUNCATED);
}

/* A visible byte of a request-target, once its start was checked. */
static void keep_target_byte(struct ks_http_parser *p, uint8_t c)
{
	struct ks_http_message *msg = &p->msg;

	if (msg->target_len == KS_HTTP_TARGET_MAX) {
		msg->flags |= KS_HTTP_MSG_TARGET_TRUNCATED;
		return;
	}
	if (c == '?')
		p->head_state |= HEAD_QUERY;
	msg->target[msg->target_len++] = (char)c;
	msg->target[msg->target_len] = '\0';
	if (!(p->head_state & HEAD_QUERY))
		msg->path_len = msg->target_len;
}

static void parse_target(struct ks_http_parser *p, uint8_t c)
{
	bool first = !target_started(&p->msg);

	if (c == ' ' && !first) {
		p->state = ST_VERSION;
		return;
	}
	if (!is_visible(c) || (first && !is_target_start(c))) {
		syntax_error(p);
		return;
	}
	keep_target_byte(p, c);
}

/* "HTTP/1." DIGIT, and in a status line the SP after it. */
static void parse_version(struct ks_http_parser *p, uint8_t c)
{
	if (p->match < VERSION_PREFIX_LEN) {
		if (c != (uint8_t)version_prefix[p->match]) {
			syntax_error(p);
			return;
		}
		p->match++;
	} else if (p->match == VERSION_PREFIX_LEN && c >= '0' && c <= '9') {
		p->msg.version_minor = (uint8_t)(c - '0');
		p->match++;
		if (p->direction == KS_HTTP_REQUESTS)
			p->state = ST_REQUEST_LINE_END;
	} else if (p->match > VERSION_PREFIX_LEN && c == ' ') {
		p->match = 0;
		p->state = ST_STATUS;
	} else {
		syntax_error(p);
	}
}

static void parse_status(struct ks_http_parser *p, uint8_t c)
{
	if (p->match < 3 && c >= (p->match ? '0' : '1') && c <= '9') {
		p->msg.status = (uint16_t)(p->msg.status * 10 + (c - '0'));
		p->match++;
	} else if (p->match == 3 && c == ' ') {
		p->state = ST_REASON;
	} else if (p->match == 3 && c == '\n') {
		start_line_done(p);
	} else {
		syntax_error(p);
	}
}

/*
 * tchars of a field name, lower-cased for the lookup.  A name longer than
 * any of interest only needs to be known as such: one past the maximum.
 */
static void keep_name(struct ks_http_parser *p, const uint8_t *name, size_t len)
{
	size_t room = KS_HTTP_FIELD_NAME_MAX - p->name_len;

	if (p->name_len > KS_HTTP_FIELD_NAME_MAX)
		return;
	for (size_t i = 0; i < len && i < room; i++)
		p->name[p->name_len + i] =
			(char)(name[i] >= 'A' && name[i] <= 'Z' ?
				       name[i] - 'A' + 'a' :
				       name[i]);
	p->name_len = (uint8_t)(len > room ? KS_HTTP_FIELD_NAME_MAX + 1 :
					     p->name_len + len);
}

static void begin_field_name(struct ks_http_parser *p)
{
	p->name_len = 0;
	p->state = ST_FIELD_NAME;
}

/* The colon after a name that is not empty. */
static void begin_field_value(struct ks_http_parser *p)
{
	/* Longer names are none of those of interest. */
	p->field = p->name_len <= KS_HTTP_FIELD_NAME_MAX ?
			   ks_http_field_lookup(p->name, p->name_len) :
			   KS_HTTP_FIELD_OTHER;
	p->value_len = 0;
	p->value_overflow = false;
	p->state = ST_FIELD_VALUE;
}

static void parse_field_name(struct ks_http_parser *p, uint8_t c)
{
	if (c == ':' && p->name_len) {
		begin_field_value(p);
		return;
	}
	/* No whitespace before the colon either: RFC 9112 5.1 says reject. */
	if (!is_tchar(c)) {
		syntax_error(p);
		return;
	}
	keep_name(p, &c, 1);
}

static void parse_field_start(struct ks_http_parser *p, uint8_t c,
			      uint64_t ts_ns)
{
	if (c == '\n') {
		head_done(p, ts_ns);
	} else if (c == ' ' || c == '\t') {
		/*
		 * obs-fold continues the previous line (RFC 9112 5.2).  It
		 * is as good as gone from real traffic; skip it unread.
		 */
		p->field = KS_HTTP_FIELD_OTHER;
		p->state = ST_FIELD_VALUE;
	} else {
		begin_field_name(p);
		parse_field_name(p, c);
	}
}

/*
 * Text bytes of a field value, kept only for the fields of interest,
 * without the whitespace before them; a value too long is marked so.
 */
static void keep_value(struct ks_http_parser *p, const uint8_t *value,
		       size_t len)
{
	size_t room, kept;

	/* Privacy: values of other fields are never stored. */
	if (p->field == KS_HTTP_FIELD_OTHER)
		return;
	while (!p->value_len && len && (*value == ' ' || *value == '\t')) {
		value++;
		len--;
	}
	room = KS_HTTP_VALUE_MAX - p->value_len;
	kept = len < room ? len : room;
	memcpy(p->value + p->value_len, value, kept);
	p->value_len = (uint16_t)(p->value_len + kept);
	if (len > kept)
		p->value_overflow = true;
}

static void end_field_line(struct ks_http_parser *p)
{
	apply_field(p);
	p->state = ST_FIELD_START;
}

static void parse_field_value(struct ks_http_parser *p, uint8_t c)
{
	if (c == '\n') {
		end_field_line(p);
		return;
	}
	if (!is_text(c)) {
		syntax_error(p);
		return;
	}
	keep_value(p, &c, 1);
}

static void chunk_size_done(struct ks_http_parser *p)
{
	p->section_bytes = 0;
	p->state = p->remaining ? ST_CHUNK_DATA : ST_TRAILER_START;
}

static void parse_chunk_size(struct ks_http_parser *p, uint8_t c)
{
	int digit = hex_digit(c);

	if (digit >= 0 && p->match < CHUNK_SIZE_DIGITS_MAX) {
		p->remaining = p->remaining << 4 | (uint64_t)digit;
		p->match++;
	} else if (p->match && c == '\n') {
		chunk_size_done(p);
	} else if (p->match && (c == ';' || c == ' ' || c == '\t')) {
		/* Chunk extensions are skipped unread, like other fields. */
		p->state = ST_CHUNK_EXT;
	} else {
		syntax_error(p);
	}
}

static void parse_chunk_ext(struct ks_http_parser *p, uint8_t c)
{
	if (c == '\n')
		chunk_size_done(p);
	else if (!is_text(c))
		syntax_error(p);
}

static void parse_chunk_data_end(struct ks_http_parser *p, uint8_t c)
{
	if (c == '\n')
		expect_chunk_size(p);
	else
		syntax_error(p);
}

/* Trailer fields are not needed, and kept private like other fields. */
static void parse_trailer(struct ks_http_parser *p, uint8_t c)
{
	if (c == '\n' && p->state == ST_TRAILER_START)
		complete(p);
	else if (c == '\n')
		p->state = ST_TRAILER_START;
	else if (is_text(c) && (p->state == ST_TRAILER_LINE || is_tchar(c)))
		p->state = ST_TRAILER_LINE;
	else
		syntax_error(p);
}

/* One byte of a start line, field line, chunk-size line or trailer. */
static void parse_line_byte(struct ks_http_parser *p, uint8_t c, uint64_t ts_ns)
{
	if (++p->section_bytes > KS_HTTP_SECTION_MAX) {
		syntax_error(p);
		return;
	}
	/* RFC 9112 2.2: CR only ends lines; a bare LF is accepted too. */
	if (p->cr) {
		p->cr = false;
		if (c != '\n') {
			syntax_error(p);
			return;
		}
	} else if (c == '\r') {
		p->cr = true;
		return;
	}
	switch ((enum parser_state)p->state) {
	case ST_METHOD:
		parse_method(p, c);
		break;
	case ST_TARGET:
		parse_target(p, c);
		break;
	case ST_VERSION:
		parse_version(p, c);
		break;
	case ST_REQUEST_LINE_END:
		if (c == '\n')
			start_line_done(p);
		else
			syntax_error(p);
		break;
	case ST_STATUS:
		parse_status(p, c);
		break;
	case ST_REASON:
		if (c == '\n')
			start_line_done(p);
		else if (!is_text(c))
			syntax_error(p);
		break;
	case ST_FIELD_START:
		parse_field_start(p, c, ts_ns);
		break;
	case ST_FIELD_NAME:
		parse_field_name(p, c);
		break;
	case ST_FIELD_VALUE:
		parse_field_value(p, c);
		break;
	case ST_CHUNK_SIZE:
		parse_chunk_size(p, c);
		break;
	case ST_CHUNK_EXT:
		parse_chunk_ext(p, c);
		break;
	case ST_CHUNK_DATA_END:
		parse_chunk_data_end(p, c);
		break;
	case ST_TRAILER_START:
	case ST_TRAILER_LINE:
		parse_trailer(p, c);
		break;
	default:
		break;
	}
}

/* Body or chunk bytes, seen or not, up to what the framing says is left. */
static uint64_t consume_counted(struct ks_http_parser *p, uint64_t avail)
{
	uint64_t n = avail < p->remaining ? avail : p->remaining;

	p->remaining -= n;
	p->msg.body_len += n;
	if (!p->remaining) {
		if (p->state == ST_BODY_LENGTH) {
			complete(p);
		} else {
			p->state = ST_CHUNK_DATA_END;
			p->section_bytes = 0;
		}
	}
	return n;
}

/* The end of a line: CRLF or a bare LF, 0 when not there (or cut). */
static size_t line_end_len(const uint8_t *data, size_t len)
{
	if (len && data[0] == '\n')
		return 1;
	return len >= 2 && data[0] == '\r' && data[1] == '\n' ? 2 : 0;
}

/*
 * Plain field lines, "name:value" CRLF, each byte taken as
 * parse_line_byte() would; it gets back the first byte that is anything
 * else (the empty line that ends the head, obs-fold, a bad byte) or that
 * may be cut (the rest of a CRLF).
 */
static size_t take_field_lines(struct ks_http_parser *p, const uint8_t *data,
			       size_t len)
{
	size_t n = 0, start, end;

	for (;;) {
		switch ((enum parser_state)p->state) {
		case ST_FIELD_START:
			if (n == len || !is_tchar(data[n]))
				return n;
			begin_field_name(p);
			/* fall through */
		case ST_FIELD_NAME:
			for (start = n; n < len && is_tchar(data[n]); n++)
				;
			keep_name(p, data + start, n - start);
			if (n == len || data[n] != ':' || !p->name_len)
				return n;
			n++;
			begin_field_value(p);
			/* fall through */
		case ST_FIELD_VALUE:
			start = n;
			n += text_run(data + n, len - n);
			keep_value(p, data + start, n - start);
			end = line_end_len(data + n, len - n);
			if (!end)
				return n;
			n += end;
			end_field_line(p);
			break;
		default:
			return n;
		}
	}
}

/* A method's letters, kept as parse_method() keeps them; the SP is its. */
static size_t take_method(struct ks_http_parser *p, const uint8_t *data,
			  size_t len)
{
	struct ks_http_message *msg = &p->msg;
	size_t n = 0;

	for (; n < len && is_method_char(data[n]) &&
	       p->match < KS_HTTP_METHOD_MAX;
	     n++)
		msg->method_name[p->match++] = (char)data[n];
	msg->method_name[p->match] = '\0';
	return n;
}

/*
 * A whole "HTTP/1." DIGIT, and in a status line the SP after it: what
 * parse_version() would take, when all of it is there.
 */
static size_t take_version(struct ks_http_parser *p, const uint8_t *data,
			   size_t len)
{
	bool response = p->direction == KS_HTTP_RESPONSES;

	if (p->match || len < VERSION_PREFIX_LEN + 1 + response ||
	    memcmp(data, version_prefix, VERSION_PREFIX_LEN) ||
	    data[VERSION_PREFIX_LEN] < '0' || data[VERSION_PREFIX_LEN] > '9' ||
	    (response && data[VERSION_PREFIX_LEN + 1] != ' '))
		return 0;
	p->msg.version_minor = (uint8_t)(data[VERSION_PREFIX_LEN] - '0');
	p->match = response ? 0 : VERSION_PREFIX_LEN + 1;
	p->state = response ? ST_STATUS : ST_REQUEST_LINE_END;
	return VERSION_PREFIX_LEN + 1 + response;
}

/* Three digits and the SP before a reason, as parse_status() takes them. */
static size_t take_status(struct ks_http_parser *p, const uint8_t *data,
			  size_t len)
{
	if (p->match || len < 4 || data[0] < '1' || data[0] > '9' ||
	    data[1] < '0' || data[1] > '9' || data[2] < '0' || data[2] > '9' ||
	    data[3] != ' ')
		return 0;
	p->msg.status = (uint16_t)((data[0] - '0') * 100 +
				   (data[1] - '0') * 10 + (data[2] - '0'));
	p->match = 3;
	p->state = ST_REASON;
	return 4;
}

/*
 * The bytes of a head that only go on what parse_line_byte() started (a
 * method, the rest of a request-target, a whole version and status, a
 * reason phrase, whole field lines), taken in runs without its dispatch
 * per byte, each as it would take them.  They are most of a head.
 * Returns how many bytes it consumed; the one it stops at (a delimiter, a
 * bad byte, a cut, the section limit) is parse_line_byte()'s.
 */
static size_t take_run(struct ks_http_parser *p, const uint8_t *data,
		       size_t len)
{
	size_t n = 0, room = p->section_bytes < KS_HTTP_SECTION_MAX ?
				     KS_HTTP_SECTION_MAX - p->section_bytes :
				     0;

	if (p->cr)
		return 0;
	if (len > room)
		len = room;
	switch ((enum parser_state)p->state) {
	case ST_METHOD:
		n = take_method(p, data, len);
		break;
	case ST_VERSION:
		n = take_version(p, data, len);
		break;
	case ST_STATUS:
		n = take_status(p, data, len);
		break;
	case ST_TARGET:
		if (!target_started(&p->msg))
			return 0;
		for (; n < len && is_visible(data[n]); n++)
			keep_target_byte(p, data[n]);
		break;
	case ST_FIELD_START:
	case ST_FIELD_NAME:
	case ST_FIELD_VALUE:
		n = take_field_lines(p, data, len);
		break;
	case ST_REASON:
		n = text_run(data, len);
		break;
	default:
		return 0;
	}
	p->section_bytes += n;
	return n;
}

static void parse(struct ks_http_parser *p, const uint8_t *data, size_t len,
		  uint64_t ts_ns)
{
	size_t i = 0, taken;

	while (i < len) {
		switch ((enum parser_state)p->state) {
		case ST_HUNT:
		case ST_NOT_HTTP:
		case ST_CLOSED:
			return;
		case ST_IDLE:
			/* RFC 9112 2.2: ignore empty lines between messages. */
			if (data[i] == '\r' || data[i] == '\n')
				i++;
			else
				begin_message(p, ts_ns);
			break;
		case ST_BODY_LENGTH:
		case ST_CHUNK_DATA:
			i += consume_counted(p, len - i);
			break;
		case ST_BODY_UNTIL_CLOSE:
			p->msg.body_len += len - i;
			return;
		default:
			taken = take_run(p, data + i, len - i);
			if (taken)
				i += taken;
			else
				parse_line_byte(p, data[i++], ts_ns);
			break;
		}
	}
}

/* Whether enough of the start line went by to make the message worth it. */
static bool start_line_usable(const struct ks_http_parser *p)
{
	if (p->state == ST_METHOD)
		return false;
	if (p->direction == KS_HTTP_REQUESTS)
		return p->state != ST_TARGET || p->msg.target_len ||
		       (p->msg.flags & KS_HTTP_MSG_TARGET_TRUNCATED);
	return p->state == ST_REASON ||
	       (p->state == ST_STATUS && p->match == 3);
}

/* The head goes on in bytes that were not captured. */
static void cut_head(struct ks_http_parser *p, uint64_t ts_ns)
{
	if (!p->in_message) {
		if (!start_line_usable(p)) {
			start_failed(p);
			return;
		}
		start_line_done(p);
	}
	p->cr = false;
	p->msg.flags |= KS_HTTP_MSG_HEAD_TRUNCATED;
	head_done(p, ts_ns);
	/* Even with no body, the next message would start unseen. */
	if (p->state == ST_IDLE)
		hunt(p);
}

/* Chunk data always ends in CRLF: it need not be seen to be skipped. */
static uint64_t skip_chunk_data_end(struct ks_http_parser *p, uint64_t unseen)
{
	uint64_t crlf_left = p->cr ? 1 : 2;

	if (!unseen)
		return 0;
	if (unseen < crlf_left) {
		p->cr = true;
		return unseen;
	}
	p->cr = false;
	expect_chunk_size(p);
	return crlf_left;
}

static void skip_unseen(struct ks_http_parser *p, uint64_t unseen,
			uint64_t ts_ns)
{
	switch ((enum parser_state)p->state) {
	case ST_HUNT:
	case ST_NOT_HTTP:
	case ST_CLOSED:
		return;
	case ST_BODY_UNTIL_CLOSE:
		p->msg.body_len += unseen;
		return;
	case ST_BODY_LENGTH:
	case ST_CHUNK_DATA:
		unseen -= consume_counted(p, unseen);
		if (p->state != ST_CHUNK_DATA_END)
			break;
		/* fall through */
	case ST_CHUNK_DATA_END:
		unseen -= skip_chunk_data_end(p, unseen);
		break;
	default:
		break;
	}
	if (!unseen)
		return;
	/* Something that tells where messages end was not seen. */
	if (p->in_message && (p->msg.flags & KS_HTTP_MSG_HEAD_SEEN))
		lose_framing(p);
	else if (p->state == ST_IDLE && p->probing)
		hunt(p); /* no byte of the stream seen yet: no verdict */
	else if (p->state == ST_IDLE)
		start_failed(p);
	else
		cut_head(p, ts_ns);
}

/* A syscall while skipping: a new message, or more of the open one. */
static bool resume_at_syscall(struct ks_http_parser *p, const uint8_t *data,
			      size_t captured_len, size_t total_len,
			      uint64_t ts_ns)
{
	enum start_guess guess = guess_start(p->direction, data, captured_len);

	if (guess == START_PLAUSIBLE) {
		if (p->in_message)
			end_message(p, KS_HTTP_EV_COMPLETE);
		p->probing = true;
		p->state = ST_IDLE;
		return true;
	}
	if (p->in_message) {
		p->msg.body_len += total_len;
		p->msg.end_ns = ts_ns;
	} else if (guess == START_NONE && captured_len) {
		probe_failed(p);
	}
	return false;
}

void ks_http_parser_feed(struct ks_http_parser *parser, const uint8_t *data,
			 size_t captured_len, size_t total_len, uint64_t ts_ns)
{
	if (parser->state == ST_NOT_HTTP || parser->state == ST_CLOSED)
		return;
	if (total_len < captured_len)
		total_len = captured_len;
	if (parser->state == ST_HUNT &&
	    !resume_at_syscall(parser, data, captured_len, total_len, ts_ns))
		return;
	/* This syscall carries bytes of the message begun before, if any. */
	if (parser->state != ST_IDLE)
		parser->msg.end_ns = ts_ns;
	parse(parser, data, captured_len, ts_ns);
	if (total_len > captured_len)
		skip_unseen(parser, total_len - captured_len, ts_ns);
}

void ks_http_parser_close(struct ks_http_parser *parser, uint64_t ts_ns)
{
	if (parser->in_message) {
		if (parser->state == ST_BODY_UNTIL_CLOSE ||
		    parser->state == ST_HUNT) {
			end_message(parser, KS_HTTP_EV_COMPLETE);
		} else {
			parser->msg.end_ns = ts_ns;
			end_message(parser, KS_HTTP_EV_ABORT);
		}
	}
	if (parser->state != ST_NOT_HTTP)
		parser->state = ST_CLOSED;
}

bool ks_http_parser_is_http(const struct ks_http_parser *parser)
{
	return parser->state != ST_NOT_HTTP;
}

bool ks_http_parser_expect(struct ks_http_parser *parser,
			   enum ks_http_method method)
{
	if (parser->pending_count == KS_HTTP_PIPELINE_MAX)
		return false;
	parser->pending_methods[(parser->pending_first +
				 parser->pending_count) %
				KS_HTTP_PIPELINE_MAX] = (uint8_t)method;
	parser->pending_count++;
	return true;
}

void ks_http_parser_reset(struct ks_http_parser *parser)
{
	enum ks_http_direction direction = parser->direction;
	ks_http_event_fn on_event = parser->on_event;
	void *ctx = parser->ctx;

	memset(parser, 0, sizeof(*parser));
	parser->direction = direction;
	parser->on_event = on_event;
	parser->ctx = ctx;
	parser->state = ST_HUNT;
}

void ks_http_parser_stream_start(struct ks_http_parser *parser)
{
	parser->state = ST_IDLE;
	parser->probing = true;
	/* A stream that does not start like HTTP is not: one probe only. */
	parser->probes = KS_HTTP_PROBE_SYSCALLS - 1;
}

void ks_http_parser_init(struct ks_http_parser *parser,
			 enum ks_http_direction direction,
			 ks_http_event_fn on_event, void *ctx)
{
	parser->direction = direction;
	parser->on_event = on_event;
	parser->ctx = ctx;
	ks_http_parser_reset(parser);
}
