// SPDX-License-Identifier: MIT
/*
 * The fault-case runner (mig-scenario.h). Its parts: a syscall table that
 * counts the calls of one context and fails the k-th one with an errno the
 * real call could return; a proxy thread per channel between the source's
 * and the destination's socketpairs that parses the stream's units (channel
 * header, records) as they pass, so it can cut, kill or flip at an exact
 * unit or byte; the source's script (begin, two passes with dirty and
 * converted pages, a VMM record, the commit) and the destination's thread;
 * and the check of the outcome after the VMM-style recovery.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mig-scenario.h"
#include "test-util.h"

/* ---- a counting, failing syscall table ---- */

struct ms_sys {
	struct sevmig_sys_ops ops;	/* what the context gets */
	struct sevmig_sys_ops inner;	/* the simulator host's table, with
					 * the real calls where it has none */
	uint64_t calls;			/* atomic */
	uint64_t ioctls;		/* atomic */
	uint64_t fail_at;		/* 0: never */
	uint64_t late_at;		/* 0: never; counts ioctls */
	int armed;			/* atomic */
	int fired;			/* atomic */
};

static bool gate(struct ms_sys *s)
{
	uint64_t n;

	if (!__atomic_load_n(&s->armed, __ATOMIC_ACQUIRE))
		return false;
	n = __atomic_add_fetch(&s->calls, 1, __ATOMIC_RELAXED);
	if (n != s->fail_at)
		return false;
	__atomic_store_n(&s->fired, 1, __ATOMIC_RELEASE);
	return true;
}

static int w_open(void *o, const char *path, int oflags)
{
	struct ms_sys *s = o;

	return gate(s) ? -EMFILE : s->inner.open(s->inner.opaque, path, oflags);
}

static int w_close(void *o, int fd)
{
	struct ms_sys *s = o;

	if (gate(s)) {
		/* close(2) failing with EIO still releases the descriptor. */
		s->inner.close(s->inner.opaque, fd);
		return -EIO;
	}
	return s->inner.close(s->inner.opaque, fd);
}

static int w_ioctl(void *o, int fd, unsigned long req, void *arg)
{
	struct ms_sys *s = o;
	int ret;

	if (gate(s))
		return -EIO;
	ret = s->inner.ioctl(s->inner.opaque, fd, req, arg);
	/* A late fault: the call did its work, its caller hears -EIO. */
	if (__atomic_load_n(&s->armed, __ATOMIC_ACQUIRE) &&
	    __atomic_add_fetch(&s->ioctls, 1, __ATOMIC_RELAXED) == s->late_at) {
		__atomic_store_n(&s->fired, 1, __ATOMIC_RELEASE);
		return -EIO;
	}
	return ret;
}

static int w_mmap(void *o, void *addr, size_t length, int prot, int mflags,
		  int fd, int64_t offset, void **ret_addr)
{
	struct ms_sys *s = o;

	return gate(s) ? -ENOMEM :
	       s->inner.mmap(s->inner.opaque, addr, length, prot, mflags, fd,
			     offset, ret_addr);
}

static int w_munmap(void *o, void *addr, size_t length)
{
	struct ms_sys *s = o;

	return gate(s) ? -EINVAL : s->inner.munmap(s->inner.opaque, addr, length);
}

static int w_read(void *o, int fd, void *buf, size_t len)
{
	struct ms_sys *s = o;

	return gate(s) ? -ECONNRESET : s->inner.read(s->inner.opaque, fd, buf, len);
}

static int w_writev(void *o, int fd, const struct sevmig_iovec *iov,
		    uint32_t iovcnt)
{
	struct ms_sys *s = o;

	return gate(s) ? -EPIPE : s->inner.writev(s->inner.opaque, fd, iov, iovcnt);
}

static int w_poll(void *o, int fd, uint32_t events, int timeout_ms)
{
	struct ms_sys *s = o;

	return gate(s) ? -ENOMEM :
	       s->inner.poll(s->inner.opaque, fd, events, timeout_ms);
}

static int w_fsync(void *o, int fd)
{
	struct ms_sys *s = o;

	return gate(s) ? -EIO : s->inner.fsync(s->inner.opaque, fd);
}

static void sys_init(struct ms_sys *s, const struct th *host)
{
	const struct sevmig_sys_ops *def = sevmig_sys_default();

	memset(s, 0, sizeof(*s));
	s->inner = host->ops;
	/* A NULL member means the real call (struct sevmig_sys_ops). */
	if (!s->inner.read)
		s->inner.read = def->read;
	if (!s->inner.writev)
		s->inner.writev = def->writev;
	if (!s->inner.poll)
		s->inner.poll = def->poll;
	if (!s->inner.fsync)
		s->inner.fsync = def->fsync;
	if (!s->inner.mmap)
		s->inner.mmap = def->mmap;
	if (!s->inner.munmap)
		s->inner.munmap = def->munmap;
	s->ops = (struct sevmig_sys_ops){
		.size = sizeof(s->ops), .opaque = s, .open = w_open,
		.close = w_close, .ioctl = w_ioctl, .mmap = w_mmap,
		.munmap = w_munmap, .read = w_read, .writev = w_writev,
		.poll = w_poll, .fsync = w_fsync,
	};
}

/* ---- the run's shared state ---- */

struct ms_proxy;

struct ms_state {
	const struct ms_case *c;
	struct ms_result *r;
	struct mt t;
	struct ms_sys sys[2];
	struct ms_proxy *px[MT_MAX_CH];
	pthread_mutex_t lock;		/* kill, ack_seen, flows */
	int killed;			/* -1, or the side that died */
	bool ack_passed;		/* an ACK reached the source */
	bool ack_passed_at_kill;
	/* the destination's thread */
	pthread_t dth;
	struct sevmig_receive *recv;
	bool recv_made;			/* sevmig_receive_new() succeeded */
	int recv_ret;
	uint32_t vmm_records;
	unsigned char vmm_first[64];
};

/* ---- the proxy: one thread per channel ---- */

struct ms_dir {
	int from, to;
	bool done;
	uint64_t off;			/* bytes forwarded */
	uint32_t part;			/* 0 channel header, 1 record header, 2 payload */
	uint32_t need;			/* bytes left of this part */
	unsigned char rh[32];
	uint32_t rh_got;
	uint16_t type;
};

struct ms_proxy {
	struct ms_state *st;
	uint32_t ch;
	int a, b;			/* a faces the source, b the destination */
	struct ms_dir d[3];		/* [MS_DIR_TO_DST], [MS_DIR_TO_SRC] */
	pthread_t th;
	bool started;
};

static void proxy_shut(struct ms_proxy *p)
{
	shutdown(p->a, SHUT_RDWR);
	shutdown(p->b, SHUT_RDWR);
}

static void kill_all(struct ms_state *st, int side)
{
	pthread_mutex_lock(&st->lock);
	if (st->killed < 0) {
		st->killed = side;
		st->ack_passed_at_kill = st->ack_passed;
		st->r->fired = true;
	}
	pthread_mutex_unlock(&st->lock);
	for (uint32_t i = 0; i < st->c->nch; i++)
		proxy_shut(st->px[i]);
}

static bool here(const struct ms_state *st, uint32_t ch, uint32_t dir)
{
	return st->c->ch == ch && st->c->dir == dir;
}

/* A unit (the channel header or a record) was forwarded completely:
 * note it, and say whether the case stops this proxy here. */
static bool unit_done(struct ms_proxy *p, uint32_t dir, uint16_t type)
{
	struct ms_state *st = p->st;
	const struct ms_case *c = st->c;
	struct ms_flow *f = &st->r->flow[p->ch][dir];

	if (f->units < ARRAY_LEN(f->unit_end)) {
		f->unit_end[f->units] = p->d[dir].off;
		f->unit_type[f->units] = type;
	}
	f->units++;
	if (dir == MS_DIR_TO_SRC && type == 0x0009) {	/* ACK */
		pthread_mutex_lock(&st->lock);
		st->ack_passed = true;
		pthread_mutex_unlock(&st->lock);
	}
	if (!c->at_unit || !here(st, p->ch, dir) || f->units != c->at)
		return false;
	if (c->kind == MS_CUT) {
		st->r->fired = true;
		return true;
	}
	if (c->kind == MS_KILL) {
		kill_all(st, (int)c->side);
		return true;
	}
	return false;
}

/* Before the first byte: a cut or kill at unit 0 or byte 0. */
static bool at_start(struct ms_proxy *p)
{
	struct ms_state *st = p->st;
	const struct ms_case *c = st->c;

	if (c->at || (c->kind != MS_CUT && c->kind != MS_KILL) ||
	    c->ch != p->ch)
		return false;
	if (c->kind == MS_KILL)
		kill_all(st, (int)c->side);
	else
		st->r->fired = true;
	return true;
}

static bool send_all(int fd, const unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Move what is readable in @dir; false when the proxy must stop. */
static bool pump(struct ms_proxy *p, uint32_t dir, unsigned char *buf,
		 size_t cap)
{
	struct ms_state *st = p->st;
	const struct ms_case *c = st->c;
	struct ms_dir *d = &p->d[dir];
	size_t want = d->need < cap ? d->need : cap;
	bool mine = here(st, p->ch, dir), done = false;
	uint32_t part = d->part;	/* of the unit this read continues */
	uint16_t type = 0;
	ssize_t n;

	if (c->kind == MS_CUT && !c->at_unit && mine && c->at - d->off < want)
		want = (size_t)(c->at - d->off);
	n = read(d->from, buf, want);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n < 0)
		return false;
	if (n == 0) {
		/* The sender finished: pass the end on, keep the other way. */
		shutdown(d->to, SHUT_WR);
		d->done = true;
		return true;
	}
	/* Follow the units on the bytes as sent. */
	if (d->part == 1) {
		memcpy(d->rh + d->rh_got, buf, (size_t)n);
		d->rh_got += (uint32_t)n;
	}
	d->need -= (uint32_t)n;
	if (!d->need) {
		if (d->part == 0) {
			done = true;
			d->part = 1;
			d->need = 32;
		} else if (d->part == 1) {
			uint32_t len;

			memcpy(&d->type, d->rh, 2);
			memcpy(&len, d->rh + 4, 4);
			d->rh_got = 0;
			if (!len) {
				done = true;
				type = d->type;
				d->need = 32;
			} else {
				d->part = 2;
				d->need = len;
			}
		} else {
			done = true;
			type = d->type;
			d->part = 1;
			d->need = 32;
		}
	}
	if (c->kind == MS_FLIP && mine && c->at >= d->off &&
	    c->at - d->off < (uint64_t)n) {
		buf[c->at - d->off] ^= (unsigned char)(1u << c->bit);
		st->r->fired = true;
		/* The unit hit, known now: it may never finish passing. */
		if (part == 0)
			st->r->flip_type = 0;
		else if (part == 2)
			st->r->flip_type = d->type;
		else
			memcpy(&st->r->flip_type, d->rh, 2);
	}
	if (!send_all(d->to, buf, (size_t)n))
		return false;
	d->off += (uint64_t)n;
	st->r->flow[p->ch][dir].bytes = d->off;
	if (done && unit_done(p, dir, type))
		return false;
	if (c->kind == MS_CUT && !c->at_unit && mine && d->off == c->at) {
		st->r->fired = true;
		return false;
	}
	return true;
}

static void *proxy_main(void *arg)
{
	struct ms_proxy *p = arg;
	static __thread unsigned char buf[65536];

	p->d[MS_DIR_TO_DST] = (struct ms_dir){ .from = p->a, .to = p->b,
					       .need = 64 };
	p->d[MS_DIR_TO_SRC] = (struct ms_dir){ .from = p->b, .to = p->a,
					       .need = 64 };
	if (at_start(p))
		goto stop;
	while (!p->d[MS_DIR_TO_DST].done || !p->d[MS_DIR_TO_SRC].done) {
		struct pollfd pf[2];
		uint32_t dirs[2], n = 0;

		for (uint32_t dir = 1; dir <= 2; dir++) {
			if (p->d[dir].done)
				continue;
			pf[n] = (struct pollfd){ .fd = p->d[dir].from,
						 .events = POLLIN };
			dirs[n++] = dir;
		}
		if (poll(pf, n, 200) < 0)
			continue;
		for (uint32_t i = 0; i < n; i++)
			if (pf[i].revents && !pump(p, dirs[i], buf, sizeof(buf)))
				goto stop;
	}
stop:
	proxy_shut(p);
	return NULL;
}

/* ---- the destination ---- */

static int on_record(void *opaque, uint32_t type, const void *buf, size_t len)
{
	struct ms_state *st = opaque;

	if (type != 0x1000 || len != sizeof(st->vmm_first))
		return -EPROTO;
	memcpy(st->vmm_first, buf, len);
	st->vmm_records++;
	return 0;
}

static void shut_fds(struct mt_side *s, uint32_t nch)
{
	for (uint32_t i = 0; i < nch; i++)
		if (s->fd[i] >= 0)
			shutdown(s->fd[i], SHUT_RDWR);
}

static void *dst_main(void *arg)
{
	struct ms_state *st = arg;
	struct mt *t = &st->t;
	struct sevmig_receive_opts o = {
		.size = sizeof(o), .channels = t->dst.ch,
		.nr_channels = t->nch, .amd_chain = t->amd,
		.amd_chain_len = t->amd_len, .record = on_record,
		.record_opaque = st, .max_vmm_record = 65536,
	};
	int ret = sevmig_receive_new(t->dst.vm, &o, &st->recv);

	st->recv_made = !ret;
	if (!ret)
		ret = sevmig_receive_run(st->recv, NULL);
	st->recv_ret = ret;
	/* Failed or in doubt: the VMM drops this connection. */
	if (ret)
		shut_fds(&t->dst, t->nch);
	return NULL;
}

/* ---- the source ---- */

static bool src_killed(struct ms_state *st)
{
	bool k;

	pthread_mutex_lock(&st->lock);
	k = st->killed == (int)MS_SRC;
	pthread_mutex_unlock(&st->lock);
	return k;
}

static void guest_writes(struct mt *t, uint64_t page, unsigned char v)
{
	memset(t->src.mem + page * 4096 + 100, v, 200);
}

/*
 * What a VMM does: begin, a first pass, the guest writes pages 1 and 2 and
 * converts page 5 to shared and page 3 to private, a second pass, a vCPU
 * record, pause, the guest's last write to page 7, commit. Returns the
 * first error; a killed source stops between two calls.
 */
static int src_script(struct ms_state *st, struct sevmig_send **ret_s)
{
	struct mt *t = &st->t;
	struct sevmig_send_opts o = { .size = sizeof(o), .channels = t->src.ch,
				      .nr_channels = t->nch };
	struct sevmig_send *s = NULL;
	uint64_t hc = 0;
	int ret;

#define STEP(call)						\
	do {							\
		if (src_killed(st))				\
			return -ECANCELED;			\
		ret = (call);					\
		if (ret)					\
			return ret;				\
	} while (0)

	STEP(sevmig_send_new(t->src.vm, &o, &s, NULL));
	*ret_s = s;
	STEP(sevmig_send_begin(s, NULL, NULL));
	STEP(sevmig_send_pass(s, NULL, 0));
	guest_writes(t, 1, 0x11);
	guest_writes(t, 2, 0x22);
	STEP(sevmig_send_mark_dirty(s, 1 * 4096, 2 * 4096, NULL, 0));
	STEP(sevmig_vm_map_gpa_range(t->src.vm, 5 * 4096, 1, 0,
				     SEVMIG_MAP_GPA_F_LONG_MODE, &hc));
	STEP(sevmig_vm_map_gpa_range(t->src.vm, 3 * 4096, 1, 0x10,
				     SEVMIG_MAP_GPA_F_LONG_MODE, &hc));
	STEP(sevmig_send_pass(s, NULL, 0));
	memset(st->vmm_first, 0x5c, sizeof(st->vmm_first));
	STEP(sevmig_send_record(s, 0x1000, st->vmm_first,
				sizeof(st->vmm_first), 0));
	memset(st->vmm_first, 0, sizeof(st->vmm_first));
	STEP(sevmig_vm_pause(t->src.vm, 0));
	guest_writes(t, 7, 0x77);
	STEP(sevmig_send_mark_dirty(s, 7 * 4096, 4096, NULL, 0));
	STEP(sevmig_send_commit(s, NULL));
#undef STEP
	return 0;
}

/* ---- the run ---- */

static uint32_t fw_state(struct th *h, int vm_fd)
{
	struct kvm_sev_guest_status gs;
	uint32_t err = 0;

	memset(&gs, 0, sizeof(gs));
	if (th_op(h, vm_fd, KVM_SEV_GUEST_STATUS, &gs, &err))
		return UINT32_MAX;
	return gs.state;
}

static uint64_t psp_count(struct th *h)
{
	struct sevmig_sim_host_stats hs = { .size = sizeof(hs) };

	assert_int_equal(sevmig_sim_host_stats(h->host, &hs), 0);
	return hs.psp_commands;
}

static void make_channels(struct ms_state *st)
{
	struct mt *t = &st->t;

	for (uint32_t i = 0; i < t->nch; i++) {
		struct ms_proxy *p = calloc(1, sizeof(*p));
		int sa[2], sb[2];

		assert_non_null(p);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
					    0, sa), 0);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
					    0, sb), 0);
		t->src.fd[i] = sa[0];
		t->dst.fd[i] = sb[1];
		p->st = st;
		p->ch = i;
		p->a = sa[1];
		p->b = sb[0];
		st->px[i] = p;
		assert_int_equal(sevmig_channel_from_fds(t->src.ctx, sa[0], sa[0],
							 0, &t->src.ch[i]), 0);
		assert_int_equal(sevmig_channel_from_fds(t->dst.ctx, sb[1], sb[1],
							 0, &t->dst.ch[i]), 0);
	}
}

static void resolve(struct ms_state *st)
{
	struct mt *t = &st->t;
	struct sevmig_channel *sc = NULL, *dc = NULL;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	assert_int_equal(sevmig_channel_from_fds(t->src.ctx, -1, sv[0], 0, &sc),
			 0);
	assert_int_equal(sevmig_channel_from_fds(t->dst.ctx, sv[1], -1, 0, &dc),
			 0);
	/* The verdict is a few dozen bytes: the socket buffer holds it. */
	assert_int_equal(sevmig_send_resolve(t->src.vm, sc, 0), 0);
	st->recv_ret = sevmig_receive_resolve(st->recv, dc, NULL);
	sevmig_channel_free(sc);
	sevmig_channel_free(dc);
	close(sv[0]);
	close(sv[1]);
}

static void dump_logs(struct ms_state *st)
{
	fprintf(stderr, "---- source log ----\n%s---- destination log ----\n%s----\n",
		st->t.src.log, st->t.dst.log);
}

static void check(struct ms_state *st, const char *name)
{
	struct mt *t = &st->t;
	struct ms_result *r = st->r;
	uint32_t ss = 0, ds = 0, sfw, dfw;

	assert_int_equal(sevmig_vm_state(t->src.vm, &ss), 0);
	assert_int_equal(sevmig_vm_state(t->dst.vm, &ds), 0);
	sfw = fw_state(&t->src.h, t->src.vm_fd);
	dfw = fw_state(&t->dst.h, t->dst.vm_fd);
	r->dst_runs = st->recv_made && st->recv_ret == 0 && ds == SEVMIG_VM_LIVE;
	r->src_runs = ss == SEVMIG_VM_LIVE && sfw == SEV_GSTATE_RUNNING;
	if (r->dst_runs && r->src_runs) {
		dump_logs(st);
		fail_msg("%s: BOTH sides may run the guest", name);
	}
	if (!r->dst_runs && !r->src_runs) {
		/* A destination that died after its ACK reached the source
		 * takes the guest with it: the source committed on that ACK,
		 * as any two-phase commit must. Nothing else may lose it. */
		if (st->killed == (int)MS_DST && st->ack_passed_at_kill &&
		    ss == SEVMIG_VM_SENT)
			r->lost = true;
		else {
			dump_logs(st);
			fail_msg("%s: NEITHER side runs the guest (source %s, fw %u; destination %s, receive %d)",
				 name, sevmig_vm_state_name(ss), sfw,
				 sevmig_vm_state_name(ds), st->recv_ret);
		}
		return;
	}
	if (r->dst_runs) {
		mt_assert_equal(t);
		if (ss != SEVMIG_VM_SENT || sfw != SEV_GSTATE_SENT)
			fail_msg("%s: the destination runs but the source is %s (fw %u)",
				 name, sevmig_vm_state_name(ss), sfw);
		assert_int_equal(dfw, SEV_GSTATE_RUNNING);
		assert_int_equal(st->vmm_records, 1);
		assert_int_equal(st->vmm_first[0], 0x5c);
		assert_int_equal(sevmig_vm_resume(t->src.vm, 0), -ESTALE);
		assert_int_equal(sevmig_vm_resume(t->dst.vm, 0), 0);
	} else {
		if (st->recv_made && ds != SEVMIG_VM_DEAD)
			fail_msg("%s: the source runs again but the destination is %s",
				 name, sevmig_vm_state_name(ds));
		assert_int_not_equal(dfw, SEV_GSTATE_RUNNING);
		assert_int_equal(sevmig_vm_resume(t->src.vm, 0), 0);
	}
}

/*
 * A case that hangs (both sides waiting for each other) is a failure with
 * a name, not a test timeout: the watchdog aborts after MS_DEADLINE_S.
 */
#define MS_DEADLINE_S 60

struct watchdog {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	const char *name;
	pthread_t th;
};

static void *watchdog_main(void *arg)
{
	struct watchdog *wd = arg;
	struct timespec until;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += MS_DEADLINE_S;
	pthread_mutex_lock(&wd->lock);
	while (!wd->done && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&wd->cond, &wd->lock, &until);
	if (!wd->done) {
		fprintf(stderr, "%s: the migration hung for %d s (both sides waiting)\n",
			wd->name, MS_DEADLINE_S);
		abort();
	}
	pthread_mutex_unlock(&wd->lock);
	return NULL;
}

void ms_run(struct mt_world *w, const struct ms_case *c, struct ms_result *r)
{
	struct watchdog wd = { .lock = PTHREAD_MUTEX_INITIALIZER,
			       .cond = PTHREAD_COND_INITIALIZER };
	struct ms_state *st = calloc(1, sizeof(*st));
	struct sevmig_send *s = NULL;
	uint64_t psp0[2];
	char name[96];

	assert_non_null(st);
	memset(r, 0, sizeof(*r));
	ms_case_name(c, name, sizeof(name));
	wd.name = name;
	assert_int_equal(pthread_create(&wd.th, NULL, watchdog_main, &wd), 0);
	st->c = c;
	st->r = r;
	st->killed = -1;
	pthread_mutex_init(&st->lock, NULL);
	sys_init(&st->sys[MS_SRC], &w->src);
	sys_init(&st->sys[MS_DST], &w->dst);
	mt_setup_on(&st->t, w, c->pages, c->nch, &st->sys[MS_SRC].ops,
		    &st->sys[MS_DST].ops, MT_NO_CHANNELS);
	mt_fill(&st->t, c->pages);
	make_channels(st);

	/* Arm the fault, then go. */
	psp0[MS_SRC] = psp_count(&w->src);
	psp0[MS_DST] = psp_count(&w->dst);
	if (c->kind == MS_SYS)
		st->sys[c->side].fail_at = c->k;
	if (c->kind == MS_LATE)
		st->sys[c->side].late_at = c->k;
	if (c->kind == MS_FW) {
		struct sevmig_sim_fault f = {
			.size = sizeof(f), .kind = SEVMIG_SIM_FAULT_ANY,
			.nth = (uint32_t)c->k, .err = -EIO,
			.fw_status = SEV_RET_INVALID_PARAM,
		};

		assert_int_equal(sevmig_sim_host_inject_fault(
			c->side == MS_SRC ? w->src.host : w->dst.host, &f), 0);
	}
	for (uint32_t i = 0; i < 2; i++)
		__atomic_store_n(&st->sys[i].armed, 1, __ATOMIC_RELEASE);
	for (uint32_t i = 0; i < c->nch; i++) {
		assert_int_equal(pthread_create(&st->px[i]->th, NULL, proxy_main,
						st->px[i]), 0);
		st->px[i]->started = true;
	}
	assert_int_equal(pthread_create(&st->dth, NULL, dst_main, st), 0);

	r->send_ret = src_script(st, &s);
	/* The VMM ends the session (a killed one just dies: the same call),
	 * then drops the connection. */
	sevmig_send_free(s);
	shut_fds(&st->t.src, c->nch);
	pthread_join(st->dth, NULL);
	for (uint32_t i = 0; i < c->nch; i++) {
		proxy_shut(st->px[i]);
		pthread_join(st->px[i]->th, NULL);
	}

	pthread_mutex_lock(&wd.lock);
	wd.done = true;
	pthread_cond_signal(&wd.cond);
	pthread_mutex_unlock(&wd.lock);
	pthread_join(wd.th, NULL);

	/* Disarm; count; recover. */
	for (uint32_t i = 0; i < 2; i++) {
		__atomic_store_n(&st->sys[i].armed, 0, __ATOMIC_RELEASE);
		r->calls[i] = st->sys[i].calls;
		r->ioctls[i] = st->sys[i].ioctls;
	}
	if (c->kind == MS_SYS || c->kind == MS_LATE)
		r->fired = st->sys[c->side].fired;
	r->psp[MS_SRC] = psp_count(&w->src) - psp0[MS_SRC];
	r->psp[MS_DST] = psp_count(&w->dst) - psp0[MS_DST];
	if (c->kind == MS_FW) {
		struct sevmig_sim_fault off = { .size = sizeof(off) };

		r->fired = r->psp[c->side] >= c->k;
		assert_int_equal(sevmig_sim_host_inject_fault(w->src.host, &off), 0);
		assert_int_equal(sevmig_sim_host_inject_fault(w->dst.host, &off), 0);
	}
	r->recv_ret = st->recv_ret;
	if (st->killed == (int)MS_DST) {
		sevmig_receive_free(st->recv);	/* it died: DEAD */
		st->recv = NULL;
	} else if (st->recv) {
		struct sevmig_mig_stats ms = { .size = sizeof(ms) };

		/* A VMM asks the phase: IN_DOUBT keeps the VM until the
		 * source's verdict settles it. */
		assert_int_equal(sevmig_receive_stats(st->recv, &ms), 0);
		if (ms.phase == SEVMIG_MIG_IN_DOUBT) {
			if (st->recv_ret != -ENOTCONN && st->recv_ret != -EIO)
				fail_msg("%s: in doubt with %d", name, st->recv_ret);
			r->in_doubt = true;
			resolve(st);
		} else if (st->recv_ret == -ENOTCONN) {
			fail_msg("%s: -ENOTCONN but the phase is %u", name,
				 ms.phase);
		}
	}
	check(st, name);

	st->t.recv = st->recv;	/* mt_teardown frees it */
	for (uint32_t i = 0; i < c->nch; i++) {
		close(st->px[i]->a);
		close(st->px[i]->b);
		free(st->px[i]);
	}
	mt_teardown(&st->t);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

const char *ms_case_name(const struct ms_case *c, char *buf, size_t len)
{
	static const char *const side[] = { "source", "destination" };
	static const char *const dir[] = { "", "to the destination",
					   "to the source" };

	switch (c->kind) {
	case MS_CLEAN:
		snprintf(buf, len, "clean run, %u channel(s)", c->nch);
		break;
	case MS_SYS:
		snprintf(buf, len, "%s syscall %llu fails, %u channel(s)",
			 side[c->side], (unsigned long long)c->k, c->nch);
		break;
	case MS_LATE:
		snprintf(buf, len, "%s ioctl %llu works but answers -EIO, %u channel(s)",
			 side[c->side], (unsigned long long)c->k, c->nch);
		break;
	case MS_FW:
		snprintf(buf, len, "%s PSP command %llu fails, %u channel(s)",
			 side[c->side], (unsigned long long)c->k, c->nch);
		break;
	case MS_CUT:
	case MS_KILL:
		snprintf(buf, len, "%s%s at %s %llu of channel %u %s, %u channel(s)",
			 c->kind == MS_CUT ? "cut" : "kill ",
			 c->kind == MS_CUT ? "" : side[c->side],
			 c->at_unit ? "unit" : "byte", (unsigned long long)c->at,
			 c->ch, dir[c->dir], c->nch);
		break;
	case MS_FLIP:
		snprintf(buf, len, "flip bit %u of byte %llu of channel %u %s, %u channel(s)",
			 c->bit, (unsigned long long)c->at, c->ch, dir[c->dir],
			 c->nch);
		break;
	}
	return buf;
}
