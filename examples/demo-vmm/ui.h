/* SPDX-License-Identifier: MIT */
/* What the demo shows: notes, event lines, the progress display, JSON. */
#ifndef DEMO_UI_H
#define DEMO_UI_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm.h"

struct ui {
	const char *role;	/* "source", "destination" */
	bool json;		/* the final report as JSON on stdout */
	bool quiet;		/* no notes on stderr */
	bool verbose;		/* libsevmig's warnings too */
	bool tty;		/* progress display on stderr */
	int events_fd;		/* JSON lines for scripts and tests; -1 */
	pthread_mutex_t lock;
	uint64_t last_draw_ns;
	bool drawn;		/* a progress line is on screen */
	/* The progress display's estimate of what remains. */
	uint64_t ram_pages;
	uint64_t pass_base;	/* pages sent when this pass began */
	uint64_t last_pass_ns;	/* how long the last pass took */
};

void ui_init(struct ui *u, const char *role, bool json, bool quiet,
	     int events_fd);
void ui_fini(struct ui *u);
struct vmm_events ui_vmm_events(struct ui *u);

/* A line for people (stderr), unless quiet or JSON. */
void ui_say(struct ui *u, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One JSON object on the events fd: {"event":name,"role":..., fields}. */
void ui_event(struct ui *u, const char *name, const char *fields_fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Migration progress (sevmig progress callback and pass ends). */
void ui_progress(void *opaque, const struct sevmig_mig_stats *st,
		 const struct sevmig_pass_info *pass);
void ui_progress_end(struct ui *u);

/* A small JSON writer for the reports. */
struct jbuf {
	char *b;
	size_t n, cap;
	bool first;
};
void jb_open(struct jbuf *j);
void jb_str(struct jbuf *j, const char *key, const char *val);
void jb_u64(struct jbuf *j, const char *key, uint64_t val);
void jb_i64(struct jbuf *j, const char *key, int64_t val);
void jb_f(struct jbuf *j, const char *key, double val);
void jb_bool(struct jbuf *j, const char *key, bool val);
void jb_raw(struct jbuf *j, const char *key, const char *json);
const char *jb_close(struct jbuf *j);
void jb_free(struct jbuf *j);

/* Reading event lines from the other process. */
bool json_get_u64(const char *line, const char *key, uint64_t *val);
bool json_get_str(const char *line, const char *key, char *buf, size_t len);
bool json_get_bool(const char *line, const char *key, bool *val);
bool json_is_event(const char *line, const char *name);

#endif /* DEMO_UI_H */
