/* SPDX-License-Identifier: MIT */
/*
 * The demo guest's entry points: the image header, the 64-bit entry of every
 * vCPU, the drop to user mode, the user-mode work loop, and the exception and
 * service entries of its small kernel.
 */
#include "../demo-abi.h"

#define KSTACK_SHIFT	13	/* 8 KiB kernel stack per vCPU */
#define USTACK_SHIFT	14	/* 16 KiB user stack per vCPU */

	.section .header, "a"
	.balign 8
	/* struct demo_image_header (guest.h) */
	.quad 0x4547414d49474d53	/* "SMGIMAGE" */
	.quad _start
	.quad __load_end
	.quad __image_end
	.quad __ro_end

	.section .text.entry, "ax"
	.code64
	.globl _start
/*
 * Every vCPU starts here in ring 0, 64-bit mode, paging on, interrupts off,
 * with RDI = its vCPU number and RSI = the boot information (set by the VMM
 * with KVM_SET_SREGS / KVM_SET_REGS).
 */
_start:
	mov	%rdi, %r14		/* kept across calls: vCPU number */
	mov	%rsi, %r13		/* boot information */
	lea	1(%rdi), %rax
	shl	$KSTACK_SHIFT, %rax
	lea	kstacks(%rip), %rsp
	add	%rax, %rsp
	call	kmain			/* returns the user stack top */
	/* The work runs in user mode (CPL 3). */
	pushq	$0x23			/* SS: user data */
	pushq	%rax			/* RSP */
	pushq	$0x2			/* RFLAGS: interrupts stay off */
	pushq	$0x1b			/* CS: user code */
	lea	user_entry(%rip), %rax
	pushq	%rax
	iretq

/*
 * The work loop keeps the number of page writes it made in XMM15, an SSE
 * register the compiled guest never touches (-mgeneral-regs-only), so it
 * is never spilled to memory: it travels only in the VMM's vCPU record
 * (XSAVE state), memory in the library's page stream, and after a
 * migration the two must agree (work.c checks that).
 */
user_entry:
	mov	%r14, %rdi
	mov	%r13, %rsi
	call	work_init
	movq	%rax, %xmm15
1:	mov	%r14, %rdi
	movq	%xmm15, %rsi
	call	work_tick
	movq	%xmm15, %rdx
	add	%rax, %rdx
	movq	%rdx, %xmm15
	jmp	1b

	.text
/* void demo_report(uint32_t kind, uint64_t a, b, c, d, e): OUT REPORT. */
	.globl demo_report
demo_report:
	mov	%edi, %eax
	out	%eax, $DEMO_PORT_REPORT
	ret

/* int64_t demo_doorbell(uint64_t gpa, uint64_t npages, uint64_t attrs) */
	.globl demo_doorbell
demo_doorbell:
	push	%rbx
	mov	%rdi, %rbx		/* a0 */
	mov	%rsi, %rcx		/* a1; RDX is already a2 */
	mov	$DEMO_KVM_HC_MAP_GPA_RANGE, %eax
	out	%eax, $DEMO_PORT_DOORBELL
	in	$DEMO_PORT_DOORBELL, %eax
	movslq	%eax, %rax
	pop	%rbx
	ret

/* int64_t demo_vmmcall(uint64_t gpa, uint64_t npages, uint64_t attrs), CPL 0 */
	.globl demo_vmmcall
demo_vmmcall:
	push	%rbx
	mov	%rdi, %rbx
	mov	%rsi, %rcx
	mov	$DEMO_KVM_HC_MAP_GPA_RANGE, %eax
	vmmcall
	pop	%rbx
	ret

/* int64_t demo_syscall(uint64_t op, uint64_t a0, a1, a2): into the kernel */
	.globl demo_syscall
demo_syscall:
	int	$0x80
	ret

/* The kernel's service entry (int 0x80, DPL 3): ksvc(op, a0, a1, a2). */
	.globl isr_svc
isr_svc:
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	sub	$8, %rsp		/* 16-byte alignment for the call */
	call	ksvc
	add	$8, %rsp
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	iretq

/* Exceptions: report through the PANIC port and halt the vCPU. */
	.macro exc_noerr n
	.globl exc\n
exc\n:	pushq	$0
	pushq	$\n
	jmp	exc_common
	.endm
	.macro exc_err n
	.globl exc\n
exc\n:	pushq	$\n
	jmp	exc_common
	.endm

	exc_noerr 0
	exc_noerr 1
	exc_noerr 2
	exc_noerr 3
	exc_noerr 4
	exc_noerr 5
	exc_noerr 6
	exc_noerr 7
	exc_err 8
	exc_noerr 9
	exc_err 10
	exc_err 11
	exc_err 12
	exc_err 13
	exc_err 14
	exc_noerr 15
	exc_noerr 16
	exc_err 17
	exc_noerr 18
	exc_noerr 19
	exc_noerr 20
	exc_err 21

exc_common:
	mov	(%rsp), %eax		/* vector */
	mov	8(%rsp), %rdx		/* error code */
	mov	16(%rsp), %rsi		/* RIP */
	mov	%cr2, %rcx
	out	%eax, $DEMO_PORT_PANIC
1:	hlt
	jmp	1b

	.section .note.GNU-stack, "", @progbits
