// SPDX-License-Identifier: MIT
/* The 32-bit SEV guest policy, decoded into words. */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "uapi/sev-cert.h"

static const struct {
	const char *name;
	const char *text;
} policy_bits[6] = {
	{ "NODBG", "debugging is forbidden: DBG_DECRYPT and DBG_ENCRYPT fail" },
	{ "NOKS", "no key sharing: no other guest may share this guest's memory key" },
	{ "ES", "SEV-ES: register state is encrypted too (cannot cross hosts on upstream KVM)" },
	{ "NOSEND", "the guest may never be sent: SEND_START fails" },
	{ "DOMAIN", "the guest may only be sent to a platform with the same owner (byte-identical OCA)" },
	{ "SEV", "the guest may only be sent to a genuine AMD SEV platform (full ARK, ASK, CEK, PEK, PDH check)" },
};

SEVMIG_EXPORT const char *sevmig_policy_bit_name(uint32_t bit)
{
	unsigned int n;

	if (!bit || (bit & (bit - 1)))
		return NULL;
	n = (unsigned int)__builtin_ctz(bit);
	return n < ARRAY_SIZE(policy_bits) ? policy_bits[n].name : NULL;
}

SEVMIG_EXPORT const char *sevmig_policy_bit_describe(uint32_t bit)
{
	unsigned int n;

	if (!bit || (bit & (bit - 1)))
		return "not a single policy bit";
	n = (unsigned int)__builtin_ctz(bit);
	if (n < ARRAY_SIZE(policy_bits))
		return policy_bits[n].text;
	if (bit & SEVMIG_GUEST_POLICY_RESERVED)
		return "reserved: must be zero (the firmware refuses the policy at LAUNCH_START and RECEIVE_START)";
	if (n < 24)
		return "part of the minimum firmware API major version (bits 16-23)";
	return "part of the minimum firmware API minor version (bits 24-31)";
}

SEVMIG_EXPORT int sevmig_policy_decode(uint32_t policy,
				       struct sevmig_policy_info *ret_info)
{
	struct sevmig_policy_info i;
	int len;

	if (!ret_info)
		return -EINVAL;
	len = sevmig_struct_out_len(ret_info, sizeof(i),
				    SEVMIG_POLICY_INFO_SIZE_VER0);
	if (len < 0)
		return len;
	memset(&i, 0, sizeof(i));
	i.policy = policy;
	i.flags = policy & 0x3fu;
	i.reserved = policy & SEVMIG_GUEST_POLICY_RESERVED;
	i.api_major = SEV_POLICY_API_MAJOR(policy);
	i.api_minor = SEV_POLICY_API_MINOR(policy);
	sevmig_struct_out(ret_info, &i, (size_t)len);
	return 0;
}
