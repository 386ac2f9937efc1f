/* Context switch for AArch64 (AAPCS64): saves x19-x30 and d8-d15 on the
 * running stack, stores sp, loads the other one and restores. coro_boot
 * starts a fresh coroutine: x19 holds the argument, x20 the function. */
#if defined(__aarch64__) && !defined(CHANSIM_CORO_UCONTEXT)
    .text
    .globl chansim_coro_switch
    .type chansim_coro_switch,%function
/* void chansim_coro_switch(void **save_sp, void *load_sp) */
chansim_coro_switch:
    sub sp, sp, #160
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mov x2, sp
    str x2, [x0]
    mov sp, x1
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    add sp, sp, #160
    ret
    .size chansim_coro_switch,.-chansim_coro_switch

    .globl chansim_coro_boot
    .type chansim_coro_boot,%function
chansim_coro_boot:
    mov x29, #0
    mov x0, x19
    blr x20
    brk #0
    .size chansim_coro_boot,.-chansim_coro_boot
#endif
    .section .note.GNU-stack,"",%progbits
