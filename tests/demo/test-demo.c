// SPDX-License-Identifier: MIT
/*
 * The demo as a user meets it: real processes, a real guest on /dev/kvm,
 * libsevmig-sim for the PSP. The guest's own checks decide.
 *
 *   pass              `demo --json`: the guest continues on the destination
 *                     with every checksum intact
 *   corrupt           one bit of guest memory flipped before the resume:
 *                     the guest itself reports it and the demo fails
 *   deny              host policy deny: the guest never sees the features,
 *                     the source refuses to migrate and says why
 *   kill-destination  the destination is killed in the middle: the source
 *                     cancels, its guest keeps running, and a second
 *                     migration to a fresh destination succeeds
 *   kill-source       the source is killed in the middle: the destination
 *                     discards what it had and never runs the guest
 *   no-kvm            without /dev/kvm, or without the right to open it,
 *                     the demo says what is wrong and what to do
 *
 * argv[1] is the sevmig-demo-vmm binary, argv[2] the scenario. Skips (77)
 * without a usable /dev/kvm (no-kvm: where it cannot take /dev/kvm away).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

extern char **environ;

static const char *demo_bin;
static char tmpdir[64];

/* Small guests and fast reports keep every scenario within seconds. */
#define GUEST "--mem", "32", "--vcpus", "2", "--report-ms", "20"

struct proc {
	pid_t pid;
	int ev;		/* its event lines (fd 3 in the child) */
	int in;		/* its stdin, or -1 */
	char buf[65536];
	size_t n;
	char line[4096];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void spawn(struct proc *p, bool with_stdin, const char *const *args)
{
	const char *argv[64];
	posix_spawn_file_actions_t fa;
	int ev[2], in[2] = { -1, -1 }, n = 0;

	memset(p, 0, sizeof(*p));
	p->in = -1;
	argv[n++] = demo_bin;
	for (; *args; args++)
		argv[n++] = *args;
	argv[n++] = "--events";
	argv[n++] = "3";
	argv[n++] = "--quiet";
	argv[n] = NULL;
	assert_int_equal(pipe2(ev, O_CLOEXEC), 0);
	if (with_stdin)
		assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, ev[1], 3);
	if (with_stdin)
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	assert_int_equal(posix_spawn(&p->pid, demo_bin, &fa, NULL,
				     (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(ev[1]);
	p->ev = ev[0];
	if (with_stdin) {
		close(in[0]);
		p->in = in[1];
	}
}

/* The next event line, or NULL on timeout or when the process closed it. */
static const char *next_event(struct proc *p, uint64_t deadline)
{
	for (;;) {
		char *nl = memchr(p->buf, '\n', p->n);
		struct pollfd pf = { .fd = p->ev, .events = POLLIN };
		ssize_t got;
		uint64_t t = now_ms();

		if (nl) {
			size_t k = (size_t)(nl - p->buf);

			if (k >= sizeof(p->line))
				k = sizeof(p->line) - 1;
			memcpy(p->line, p->buf, k);
			p->line[k] = 0;
			p->n -= (size_t)(nl - p->buf) + 1;
			memmove(p->buf, nl + 1, p->n);
			if (getenv("DEMO_TEST_VERBOSE"))
				fprintf(stderr, "  %s\n", p->line);
			return p->line;
		}
		if (t >= deadline || p->ev < 0)
			return NULL;
		if (poll(&pf, 1, (int)(deadline - t)) <= 0)
			continue;
		got = read(p->ev, p->buf + p->n, sizeof(p->buf) - p->n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			close(p->ev);
			p->ev = -1;
			continue;
		}
		p->n += (size_t)got;
	}
}

static bool has(const char *line, const char *text)
{
	return strstr(line, text) != NULL;
}

static bool is_event(const char *line, const char *name)
{
	char pat[80];

	snprintf(pat, sizeof(pat), "{\"event\":\"%s\"", name);
	return !strncmp(line, pat, strlen(pat));
}

static uint64_t num(const char *line, const char *key)
{
	char pat[80];
	const char *q;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	q = strstr(line, pat);
	if (!q)
		fail_msg("no \"%s\" in %s", key, line);
	return strtoull(q + strlen(pat), NULL, 10);
}

/* Wait for event @name (optionally with @text in it); fails on timeout. */
static const char *expect(struct proc *p, const char *name, const char *text,
			  unsigned timeout_s)
{
	uint64_t deadline = now_ms() + timeout_s * 1000ull;
	const char *l;

	while ((l = next_event(p, deadline)))
		if (is_event(l, name) && (!text || has(l, text)))
			return l;
	fail_msg("no \"%s\" event within %u s", name, timeout_s);
	return NULL;
}

/* Exit status of @p, waiting up to @timeout_s; -1 when killed. */
static int reap(struct proc *p, unsigned timeout_s)
{
	uint64_t deadline = now_ms() + timeout_s * 1000ull;
	int status;

	for (;;) {
		pid_t w = waitpid(p->pid, &status, WNOHANG);

		if (w == p->pid)
			break;
		if (now_ms() > deadline) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
			fail_msg("process %d did not exit within %u s",
				 (int)p->pid, timeout_s);
		}
		usleep(10000);
	}
	p->pid = -1;
	if (p->ev >= 0)
		close(p->ev);
	if (p->in >= 0)
		close(p->in);
	p->ev = p->in = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void say(struct proc *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct proc *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	assert_int_equal(write(p->in, buf, (size_t)n), n);
}

/* ---------------------------------------------------------- scenarios */

/* `demo --json`: one JSON report on stdout, decided by the guest. */
static void run_demo(const char *const *extra, char *out, size_t len,
		     int *ret_code)
{
	const char *argv[40] = { "demo", "--json", "--warmup-ms", "200",
				 GUEST };
	posix_spawn_file_actions_t fa;
	int o[2], n = 0, status;
	pid_t pid;
	size_t got = 0;
	ssize_t r;

	while (argv[n])
		n++;
	for (; extra && *extra; extra++)
		argv[n++] = *extra;
	{
		const char *full[48] = { demo_bin };

		for (int i = 0; i < n; i++)
			full[i + 1] = argv[i];
		assert_int_equal(pipe2(o, O_CLOEXEC), 0);
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, o[1], 1);
		assert_int_equal(posix_spawn(&pid, demo_bin, &fa, NULL,
					     (char *const *)full, environ), 0);
		posix_spawn_file_actions_destroy(&fa);
		close(o[1]);
	}
	while ((r = read(o[0], out + got, len - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = 0;
	close(o[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	*ret_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (getenv("DEMO_TEST_VERBOSE"))
		fprintf(stderr, "%s", out);
}

static void test_pass(void **state)
{
	static char out[16384];
	int code;

	(void)state;
	run_demo(NULL, out, sizeof(out), &code);
	if (code != 0 || !has(out, "\"pass\":true"))
		fail_msg("the demo did not pass (exit %d): %s", code, out);
	assert_true(has(out, "\"pages_corrupt\":0"));
	assert_true(has(out, "\"writes_lost\":0"));
	assert_true(has(out, "\"vm_state\":\"sent\""));
	assert_true(has(out, "\"resume_refused\":true"));
	assert_true(has(out, "\"hypercall\":\"doorbell\""));
	/* Pages of both kinds crossed. */
	assert_true(num(out, "pages_shared") > 0);
	assert_true(num(out, "pages_private") > 8000);
}

static void test_corrupt(void **state)
{
	static char out[16384];
	const char *extra[] = { "--debug-corrupt", NULL };
	int code;

	(void)state;
	run_demo(extra, out, sizeof(out), &code);
	if (code != 1 || !has(out, "\"pass\":false"))
		fail_msg("a corrupted page went unnoticed (exit %d): %s", code,
			 out);
	assert_int_equal(num(out, "pages_corrupt"), 1);
	assert_true(has(out, "1 pages corrupt"));
}

static void test_deny(void **state)
{
	static char out[16384];
	const char *extra[] = { "--host-policy", "deny", NULL };
	int code;

	(void)state;
	run_demo(extra, out, sizeof(out), &code);
	assert_int_equal(code, 3);
	assert_true(has(out, "\"pass\":false"));
	assert_true(has(out, "this VM may not migrate"));
	assert_true(has(out, "the host policy denies migration"));
}

/* The guest runs on @p: two more heartbeats of vCPU 0 with more writes. */
static void guest_keeps_running(struct proc *p)
{
	const char *l = expect(p, "heartbeat", "\"vcpu\":0,", 10);
	uint64_t seq = num(l, "seq"), writes = num(l, "writes");

	l = expect(p, "heartbeat", "\"vcpu\":0,", 10);
	assert_int_equal(num(l, "seq"), seq + 1);
	assert_true(num(l, "writes") > writes);
	assert_int_equal(num(l, "seq_errors"), 0);
}

static void start_destination(struct proc *d, const char *ark,
			      uint64_t *ret_port)
{
	const char *args[] = { "incoming", "--listen", "127.0.0.1:0",
			       "--ark-out", ark, GUEST, NULL };
	const char *l;

	spawn(d, false, args);
	l = expect(d, "listening", NULL, 30);
	*ret_port = num(l, "port");
}

static void test_kill_destination(void **state)
{
	/* A paced pre-copy: passes 150 ms apart, at least five of them. */
	const char *src_args[] = { "source", "--monitor", "--min-passes", "5",
				   "--pass-interval-ms", "150", GUEST, NULL };
	struct proc src, d1, d2;
	char ark1[96], ark2[96];
	uint64_t port;
	const char *l;

	(void)state;
	snprintf(ark1, sizeof(ark1), "%s/ark1", tmpdir);
	snprintf(ark2, sizeof(ark2), "%s/ark2", tmpdir);
	spawn(&src, true, src_args);
	expect(&src, "ready", NULL, 30);

	start_destination(&d1, ark1, &port);
	say(&src, "migrate 127.0.0.1:%llu %s\n", (unsigned long long)port,
	    ark1);
	expect(&src, "pass", NULL, 30);
	/* In the middle of pre-copy: the destination dies. */
	kill(d1.pid, SIGKILL);
	assert_int_equal(reap(&d1, 10), -1);

	l = expect(&src, "migration-failed", NULL, 30);
	assert_true(has(l, "\"vm_state\":\"live\""));
	/* The session was cancelled: the guest keeps running here. */
	guest_keeps_running(&src);

	/* A fresh destination: the second migration succeeds. */
	start_destination(&d2, ark2, &port);
	say(&src, "migrate 127.0.0.1:%llu %s\n", (unsigned long long)port,
	    ark2);
	expect(&src, "migrated", NULL, 60);
	l = expect(&d2, "verdict", NULL, 60);
	if (!has(l, "\"pass\":true"))
		fail_msg("the guest's checks failed on the destination: %s", l);
	assert_int_equal(num(l, "seq_errors"), 0);
	assert_int_equal(reap(&d2, 30), 0);
	assert_int_equal(reap(&src, 30), 0);
}

static void test_kill_source(void **state)
{
	struct proc src, d;
	char ark[96], target[64];
	uint64_t port;
	const char *l;

	(void)state;
	snprintf(ark, sizeof(ark), "%s/ark", tmpdir);
	start_destination(&d, ark, &port);
	snprintf(target, sizeof(target), "127.0.0.1:%llu",
		 (unsigned long long)port);
	{
		const char *args[] = { "source", "--migrate-to", target,
				       "--trust-ark", ark, "--min-passes", "5",
				       "--pass-interval-ms", "150", GUEST,
				       NULL };

		spawn(&src, false, args);
	}
	expect(&src, "pass", NULL, 30);
	/* In the middle of pre-copy: the source dies. */
	kill(src.pid, SIGKILL);
	assert_int_equal(reap(&src, 10), -1);

	/* The destination discards what it had; the guest never runs. */
	for (;;) {
		l = next_event(&d, now_ms() + 30000);
		if (!l)
			fail_msg("no \"discarded\" event from the destination");
		if (is_event(l, "resumed") || is_event(l, "boot") ||
		    is_event(l, "heartbeat"))
			fail_msg("the destination ran the guest: %s", l);
		if (is_event(l, "discarded"))
			break;
	}
	assert_true(num(l, "pages") > 0);	/* it had received pages */
	assert_int_equal(reap(&d, 30), 3);
}

/*
 * Run `demo` in a child that first makes /dev/kvm missing (a private mount
 * namespace with an empty /dev) or unopenable (user nobody). Returns the
 * exit code, or 77 when the child could not arrange that.
 */
static int run_without_kvm(bool as_nobody, char *err, size_t len)
{
	int p[2], status;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		if (as_nobody) {
			if (setgroups(0, NULL) || setgid(65534) ||
			    setuid(65534) || !access("/dev/kvm", R_OK | W_OK))
				_exit(77);
		} else if (unshare(CLONE_NEWNS) ||
			   mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
			   mount("tmpfs", "/dev", "tmpfs", 0, NULL)) {
			_exit(77);
		}
		execl(demo_bin, demo_bin, "demo", (char *)NULL);
		_exit(77);	/* e.g. nobody may not reach the binary */
	}
	close(p[1]);
	while ((r = read(p[0], err + got, len - 1 - got)) > 0)
		got += (size_t)r;
	err[got] = 0;
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_no_kvm(void **state)
{
	static char err[4096];
	int code, ran = 0;

	(void)state;
	code = run_without_kvm(false, err, sizeof(err));
	if (code != 77) {
		ran++;
		assert_int_equal(code, 2);
		if (!has(err, "/dev/kvm does not exist") ||
		    !has(err, "modprobe kvm_amd"))
			fail_msg("unclear error without /dev/kvm: %s", err);
	}
	code = run_without_kvm(true, err, sizeof(err));
	if (code != 77) {
		ran++;
		assert_int_equal(code, 2);
		if (!has(err, "may not open it") || !has(err, "usermod -aG kvm"))
			fail_msg("unclear error without access: %s", err);
	}
	if (!ran)
		skip();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_deny),
		cmocka_unit_test(test_kill_destination),
		cmocka_unit_test(test_kill_source),
		cmocka_unit_test(test_no_kvm),
	};
	char filter[64];
	int fd, ret;

	if (argc < 3) {
		fprintf(stderr, "usage: %s SEVMIG-DEMO-VMM SCENARIO\n", argv[0]);
		return 1;
	}
	demo_bin = argv[1];
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0 && strcmp(argv[2], "no-kvm")) {
		printf("SKIP: /dev/kvm: %s\n", strerror(errno));
		return 77;
	}
	if (fd >= 0)
		close(fd);
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sevmig-demo-test-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	/* "kill-destination" names test_kill_destination. */
	snprintf(filter, sizeof(filter), "test_%s", argv[2]);
	for (char *p = filter; *p; p++)
		if (*p == '-')
			*p = '_';
	cmocka_set_test_filter(filter);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	{
		char path[128];

		for (const char *f = "ark\0ark1\0ark2\0"; *f; f += strlen(f) + 1) {
			snprintf(path, sizeof(path), "%s/%s", tmpdir, f);
			unlink(path);
		}
		rmdir(tmpdir);
	}
	return ret;
}
