// SPDX-License-Identifier: MIT
/*
 * What the demo shows. People get notes and, on a terminal, a progress
 * display on stderr; scripts and tests get JSON lines on an events fd
 * (--events FD); --json prints the final report as one JSON object.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ui.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ui_init(struct ui *u, const char *role, bool json, bool quiet,
	     int events_fd)
{
	memset(u, 0, sizeof(*u));
	u->role = role;
	u->json = json;
	u->quiet = quiet;
	u->events_fd = events_fd;
	u->tty = !json && !quiet && isatty(STDERR_FILENO);
	pthread_mutex_init(&u->lock, NULL);
}

void ui_fini(struct ui *u)
{
	pthread_mutex_destroy(&u->lock);
}

static void clear_line(struct ui *u)
{
	if (u->drawn) {
		fputs("\r\033[K", stderr);
		u->drawn = false;
	}
}

void ui_say(struct ui *u, const char *fmt, ...)
{
	va_list ap;

	if (u->quiet || u->json)
		return;
	pthread_mutex_lock(&u->lock);
	clear_line(u);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&u->lock);
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* the reader left: events are best effort */
		s += w;
		n -= (size_t)w;
	}
}

void ui_event(struct ui *u, const char *name, const char *fields_fmt, ...)
{
	char line[2048], fields[1800];
	va_list ap;
	int n;

	if (u->events_fd < 0)
		return;
	fields[0] = 0;
	if (fields_fmt) {
		va_start(ap, fields_fmt);
		vsnprintf(fields, sizeof(fields), fields_fmt, ap);
		va_end(ap);
	}
	n = snprintf(line, sizeof(line), "{\"event\":\"%s\",\"role\":\"%s\"%s%s}\n",
		     name, u->role, fields[0] ? "," : "", fields);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	pthread_mutex_lock(&u->lock);
	write_all(u->events_fd, line, (size_t)n);
	pthread_mutex_unlock(&u->lock);
}

/* JSON string escaping for notes (they carry library messages). */
static void escape(char *out, size_t len, const char *in)
{
	size_t o = 0;

	for (; *in && o + 7 < len; in++) {
		unsigned char ch = (unsigned char)*in;

		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20) {
			o += (size_t)snprintf(out + o, len - o, "\\u%04x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = 0;
}

static void on_note(void *opaque, const char *what, const char *detail)
{
	struct ui *u = opaque;
	char esc[1024];

	escape(esc, sizeof(esc), detail);
	ui_event(u, "note", "\"what\":\"%s\",\"detail\":\"%s\"", what, esc);
	if (!strcmp(what, "libsevmig")) {
		if (u->verbose)
			ui_say(u, "[%s] libsevmig: %s", u->role, detail);
	}
	else if (!strcmp(what, "libsevmig-error"))
		ui_say(u, "[%s] libsevmig error: %s", u->role, detail);
	else if (!strcmp(what, "error"))
		ui_say(u, "[%s] error: %s", u->role, detail);
	else
		ui_say(u, "[%s] %s", u->role, detail);
}

static void on_report(void *opaque, struct vcpu *c, uint32_t kind)
{
	struct ui *u = opaque;
	struct guest_view g;

	pthread_mutex_lock(&c->vmm->lock);
	g = c->gv;
	pthread_mutex_unlock(&c->vmm->lock);
	switch (kind) {
	case DEMO_REP_BOOT:
		ui_event(u, "boot", "\"vcpu\":%u,\"seq\":%llu,\"features\":%u,"
			 "\"flags\":%u", c->id, (unsigned long long)g.seq,
			 g.features, g.boot_flags);
		break;
	case DEMO_REP_HEARTBEAT:
		ui_event(u, "heartbeat", "\"vcpu\":%u,\"seq\":%llu,"
			 "\"writes\":%llu,\"conversions\":%llu,"
			 "\"shared\":%llu,\"seq_errors\":%llu", c->id,
			 (unsigned long long)g.seq,
			 (unsigned long long)g.writes,
			 (unsigned long long)g.conversions,
			 (unsigned long long)g.shared_now,
			 (unsigned long long)g.seq_errors);
		break;
	case DEMO_REP_CHECK:
		ui_event(u, "check", "\"vcpu\":%u,\"seq\":%llu,\"gen\":%llu,"
			 "\"pages\":%llu,\"failures\":%llu,\"gap_us\":%llu",
			 c->id, (unsigned long long)g.seq,
			 (unsigned long long)g.check_gen,
			 (unsigned long long)g.check_pages,
			 (unsigned long long)g.check_failures,
			 (unsigned long long)g.check_gap_us);
		break;
	case DEMO_REP_ERROR:
		ui_event(u, "guest-error", "\"vcpu\":%u,\"seq\":%llu", c->id,
			 (unsigned long long)g.seq);
		ui_say(u, "[%s] the guest on vCPU %u reports that a page-state "
		       "change failed", u->role, c->id);
		break;
	default:
		break;
	}
}

struct vmm_events ui_vmm_events(struct ui *u)
{
	struct vmm_events e = { .report = on_report, .note = on_note,
				.opaque = u };

	return e;
}

static const char *phase_name(uint32_t p)
{
	switch (p) {
	case SEVMIG_MIG_NEW: return "new";
	case SEVMIG_MIG_HANDSHAKE: return "handshake";
	case SEVMIG_MIG_PRECOPY: return "pre-copy";
	case SEVMIG_MIG_FINAL: return "final pass";
	case SEVMIG_MIG_AWAIT_COMMIT: return "commit";
	case SEVMIG_MIG_COMMITTED: return "committed";
	case SEVMIG_MIG_CANCELLED: return "cancelled";
	case SEVMIG_MIG_FAILED: return "failed";
	case SEVMIG_MIG_IN_DOUBT: return "in doubt";
	default: return "?";
	}
}

/*
 * The progress display: pass, pages sent by kind, throughput, what remains
 * and how long it should take at this rate, and how fast the guest dirties
 * memory. Redrawn at most ten times a second.
 *
 * What remains is estimated here: the first pass sends all RAM; each later
 * one about what the guest dirtied during the one before (its dirty rate
 * times that pass's length). The library's own count of remaining pages
 * covers what it knows already and is the floor.
 */
void ui_progress(void *opaque, const struct sevmig_mig_stats *st,
		 const struct sevmig_pass_info *pass)
{
	struct ui *u = opaque;
	uint64_t t = now_ns(), sent = st->pages_private + st->pages_shared;
	uint64_t remaining, est;
	double secs = st->elapsed_ns / 1e9, mbs = 0, eta = 0;

	pthread_mutex_lock(&u->lock);
	if (st->phase <= SEVMIG_MIG_HANDSHAKE)
		u->pass_base = u->last_pass_ns = 0;
	if (pass) {
		u->pass_base = sent;
		u->last_pass_ns = pass->duration_ns;
	}
	est = u->last_pass_ns ? (uint64_t)(st->dirty_rate *
					   (u->last_pass_ns / 1e9)) :
				u->ram_pages;
	remaining = sent - u->pass_base < est ? est - (sent - u->pass_base) : 0;
	if (st->remaining_pages > remaining)
		remaining = st->remaining_pages;
	pthread_mutex_unlock(&u->lock);
	if (secs > 0)
		mbs = st->bytes_total / 1e6 / secs;
	if (mbs > 0)
		eta = remaining * 4096.0 / (mbs * 1e6);
	if (pass)
		ui_event(u, "pass", "\"pass\":%u,\"private\":%llu,\"shared\":%llu,"
			 "\"remaining\":%llu,\"ms\":%.3f,\"dirty_rate\":%llu",
			 pass->pass,
			 (unsigned long long)pass->pages_private,
			 (unsigned long long)pass->pages_shared,
			 (unsigned long long)remaining,
			 pass->duration_ns / 1e6,
			 (unsigned long long)st->dirty_rate);
	if (!u->tty)
		return;
	pthread_mutex_lock(&u->lock);
	if (pass || t - u->last_draw_ns >= 100000000ull) {
		char p[32] = "";

		u->last_draw_ns = t;
		if (st->phase >= SEVMIG_MIG_PRECOPY)
			snprintf(p, sizeof(p), "pass %llu",
				 (unsigned long long)(st->phase ==
						      SEVMIG_MIG_PRECOPY ?
						      st->passes + 1 :
						      st->passes));
		fprintf(stderr, "\r\033[K%-10s %-8s private %llu  shared %llu  "
			"%.1f MB/s  remaining ~%llu pages (~%.0f ms)  dirty "
			"%llu pages/s",
			phase_name(st->phase), p,
			(unsigned long long)st->pages_private,
			(unsigned long long)st->pages_shared, mbs,
			(unsigned long long)remaining, eta * 1e3,
			(unsigned long long)st->dirty_rate);
		fflush(stderr);
		u->drawn = true;
	}
	pthread_mutex_unlock(&u->lock);
}

void ui_progress_end(struct ui *u)
{
	pthread_mutex_lock(&u->lock);
	if (u->drawn) {
		fputc('\n', stderr);
		u->drawn = false;
	}
	pthread_mutex_unlock(&u->lock);
}

/* ----------------------------------------------------------- JSON */

static void jb_put(struct jbuf *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void jb_put(struct jbuf *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(j->b ? j->b + j->n : NULL,
			      j->b ? j->cap - j->n : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (j->b && j->n + (size_t)n < j->cap) {
			j->n += (size_t)n;
			return;
		}
		{
			size_t cap = (j->cap ? j->cap * 2 : 1024) + (size_t)n;
			char *b = realloc(j->b, cap);

			if (!b)
				return;
			j->b = b;
			j->cap = cap;
		}
	}
}

void jb_open(struct jbuf *j)
{
	memset(j, 0, sizeof(*j));
	j->first = true;
	jb_put(j, "{");
}

static void jb_key(struct jbuf *j, const char *key)
{
	jb_put(j, "%s\"%s\":", j->first ? "" : ",", key);
	j->first = false;
}

void jb_str(struct jbuf *j, const char *key, const char *val)
{
	char esc[1024];

	escape(esc, sizeof(esc), val);
	jb_key(j, key);
	jb_put(j, "\"%s\"", esc);
}

void jb_u64(struct jbuf *j, const char *key, uint64_t val)
{
	jb_key(j, key);
	jb_put(j, "%llu", (unsigned long long)val);
}

void jb_i64(struct jbuf *j, const char *key, int64_t val)
{
	jb_key(j, key);
	jb_put(j, "%lld", (long long)val);
}

void jb_f(struct jbuf *j, const char *key, double val)
{
	jb_key(j, key);
	jb_put(j, "%.3f", val);
}

void jb_bool(struct jbuf *j, const char *key, bool val)
{
	jb_key(j, key);
	jb_put(j, "%s", val ? "true" : "false");
}

void jb_raw(struct jbuf *j, const char *key, const char *json)
{
	jb_key(j, key);
	jb_put(j, "%s", json);
}

const char *jb_close(struct jbuf *j)
{
	jb_put(j, "}");
	return j->b ? j->b : "{}";
}

void jb_free(struct jbuf *j)
{
	free(j->b);
	j->b = NULL;
}

/* Find "key": in a flat JSON object line (the events we write). */
static const char *json_val(const char *line, const char *key)
{
	char pat[96];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	return p ? p + strlen(pat) : NULL;
}

bool json_get_u64(const char *line, const char *key, uint64_t *val)
{
	const char *p = json_val(line, key);
	char *end;

	if (!p || *p < '0' || *p > '9')
		return false;
	*val = strtoull(p, &end, 10);
	return end != p;
}

bool json_get_str(const char *line, const char *key, char *buf, size_t len)
{
	const char *p = json_val(line, key);
	size_t o = 0;

	if (!p || *p != '"' || !len)
		return false;
	for (p++; *p && *p != '"' && o + 1 < len; p++) {
		if (*p == '\\' && p[1])
			p++;
		buf[o++] = *p;
	}
	buf[o] = 0;
	return true;
}

bool json_get_bool(const char *line, const char *key, bool *val)
{
	const char *p = json_val(line, key);

	if (!p)
		return false;
	if (!strncmp(p, "true", 4))
		*val = true;
	else if (!strncmp(p, "false", 5))
		*val = false;
	else
		return false;
	return true;
}

bool json_is_event(const char *line, const char *name)
{
	char ev[64];

	return json_get_str(line, "event", ev, sizeof(ev)) && !strcmp(ev, name);
}
