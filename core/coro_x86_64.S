/* Context switch for x86_64 System V: saves the callee-saved registers on
 * the running stack, stores the stack pointer, loads the other one and
 * restores its registers. coro_boot starts a fresh coroutine: r12 holds the
 * argument, r13 the function (see coro_init). */
#if defined(__x86_64__) && !defined(CHANSIM_CORO_UCONTEXT)
    .text
    .globl chansim_coro_switch
    .type chansim_coro_switch,@function
/* void chansim_coro_switch(void **save_sp, void *load_sp) */
chansim_coro_switch:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size chansim_coro_switch,.-chansim_coro_switch

    .globl chansim_coro_boot
    .type chansim_coro_boot,@function
chansim_coro_boot:
    .cfi_startproc
    .cfi_undefined rip
    xorl %ebp, %ebp
    movq %r12, %rdi
    callq *%r13
    ud2
    .cfi_endproc
    .size chansim_coro_boot,.-chansim_coro_boot
#endif
    .section .note.GNU-stack,"",@progbits
