// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "psp-hook.h"

void put32(uint8_t *b, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

void put64(uint8_t *b, size_t off, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

void put_ptr(uint8_t *b, size_t off, const void *p)
{
	put64(b, off, (uint64_t)(uintptr_t)p);
}

static uint64_t get64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static void check_nested(const struct psp_expect *e, uint64_t data)
{
	const uint8_t *got = (const uint8_t *)(uintptr_t)data;

	if (e->null_data) {
		assert_int_equal(data, 0);
		return;
	}
	if (e->in || e->out)
		assert_true(data != 0);
	if (e->in) {
		const uint8_t *want = e->in;

		for (size_t i = 0; i < e->in_len; i++)
			if (got[i] != want[i])
				fail_msg("command %u: byte %zu of the command struct is 0x%02x, want 0x%02x",
					 e->cmd, i, got[i], want[i]);
	}
	if (e->out)
		memcpy((void *)(uintptr_t)data, e->out, e->out_len);
}

/* Layout of the kernel's struct sev_issue_cmd: cmd u32 @0, data u64 @4, error u32 @12. */
int psp_sev_hook(const struct fake_call *c, void *arg)
{
	const struct psp_expect *e = c->hook_data;
	uint8_t *a = arg;

	assert_int_equal(get32(a), e->cmd);
	assert_int_equal(get32(a + 12), 0);	/* error zeroed before the call */
	check_nested(e, get64(a + 4));
	put32(a, 12, e->fw);
	return c->ret;
}

/* §4.1: id u32 @0, pad @4, data u64 @8, error u32 @16, sev_fd u32 @20. */
int psp_kvm_hook(const struct fake_call *c, void *arg)
{
	const struct psp_expect *e = c->hook_data;
	uint8_t *a = arg;

	assert_int_equal(get32(a), e->cmd);
	assert_int_equal(get32(a + 4), 0);
	assert_int_equal(get32(a + 16), 0);
	if (e->sev_fd >= 0)
		assert_int_equal(get32(a + 20), (uint32_t)e->sev_fd);
	check_nested(e, get64(a + 8));
	put32(a, 16, e->fw);
	return c->ret;
}
