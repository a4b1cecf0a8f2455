/* fx-stacks.c - contended waits from one call site reached by two callers.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-stacks [K=20]
 * The waiter thread takes `mutex` K times through take_lock(), called in
 * turn from via_a() (even rounds) and via_b() (odd rounds): two callers
 * with the same frame layout, so the wait happens at the same stack depth
 * and the same stack pointer each time, and only the return address into
 * via_a or via_b tells the two stacks apart (the agent's per-thread stack
 * cache must see it). Main holds the mutex until the waiter is blocked on it,
 * so every one of the K acquisitions waits.
 * Expected: K contended WAIT_BEGINs on `mutex` by the waiter; the stack of
 * round i holds a return address into via_a (i even) or via_b (i odd), and
 * not into the other.
 * stderr: fx: mutex=ADDR waiter_tid=T via_a=ADDR via_b=ADDR
 *
 * usage: fx-stacks K rbp|depth|fallback (rbp, fallback: x86-64)
 * rbp: every round goes through via_a, called with the round's number in rbp
 * (as code built without frame pointers keeps anything there, a loop counter
 * say): via_a's prologue saves that number (as an agent frame that uses rbp
 * would, below code without frame pointers), a word that
 * changes at every wait from the one call site. The stack cache must still
 * hit: one walk for the K waits. depth: round i waits (i % 12) + 1 calls
 * deeper, 12 call paths in turn (more than the cache holds): a walk at every
 * wait (the control).
 * fallback: every round goes through via_a called from fx_call_fake_frames,
 * an asm function without unwind information (libunwind unwinds it by rbp)
 * that lays out two frames of its own, A and B, and points rbp at B in even
 * rounds and at A in odd ones: the stack goes through fx_fake_ret_b or
 * fx_fake_ret_a. Both frames are written in every round, so only rbp tells
 * the two stacks apart (the cache must key it). stderr adds fake_a=ADDR
 * fake_b=ADDR.
 */
#include "fx-common.h"

#include <semaphore.h>
#include <stdint.h>
#include <stdatomic.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static sem_t go, done;
static long k_rounds;
static _Atomic pid_t waiter_tid;
static volatile long taken;

__attribute__((noinline)) static void take_lock(void) {
  fx_ok(pthread_mutex_lock(&mutex), "lock");
  taken++;
  fx_ok(pthread_mutex_unlock(&mutex), "unlock");
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void via_a(void);
__attribute__((noinline)) void via_b(void);
__attribute__((noinline)) void via_a(void) {
  take_lock();
  __asm__ volatile("" ::: "memory"); /* not a tail call: via_a stays on the stack */
}
__attribute__((noinline)) void via_b(void) {
  take_lock();
  __asm__ volatile("" ::: "memory");
}

/* fn() called with v in rbp; its own frame's CFA is rsp-based (CFI below). */
void fx_call_with_rbp(long v, void (*fn)(void));
#if defined(__x86_64__)
__asm__(".text\n"
        ".globl fx_call_with_rbp\n"
        ".type fx_call_with_rbp,@function\n"
        "fx_call_with_rbp:\n"
        ".cfi_startproc\n"
        "push %rbp\n"
        ".cfi_def_cfa_offset 16\n"
        ".cfi_offset %rbp, -16\n"
        "mov %rdi, %rbp\n"
        "call *%rsi\n"
        "pop %rbp\n"
        ".cfi_def_cfa_offset 8\n"
        ".cfi_restore %rbp\n"
        "ret\n"
        ".cfi_endproc\n"
        ".size fx_call_with_rbp, .-fx_call_with_rbp\n");
#endif

/* fn() with rbp at one of two frames laid out here (B if b, else A), each
 * [rbp] = the real frame, [rbp + 8] = fx_fake_ret_a or _b (never returned
 * to); no unwind information. */
void fx_call_fake_frames(long b, void (*fn)(void));
extern const char fx_fake_ret_a[], fx_fake_ret_b[];
#if defined(__x86_64__)
__asm__(".text\n"
        ".globl fx_call_fake_frames\n"
        ".type fx_call_fake_frames,@function\n"
        "fx_call_fake_frames:\n"
        "push %rbp\n"
        "mov %rsp, %rbp\n"
        "sub $64, %rsp\n"
        "mov %rbp, 0(%rsp)\n"
        "lea fx_fake_ret_a(%rip), %rax\n"
        "mov %rax, 8(%rsp)\n"
        "mov %rbp, 32(%rsp)\n"
        "lea fx_fake_ret_b(%rip), %rax\n"
        "mov %rax, 40(%rsp)\n"
        "mov %rsp, %rbp\n"
        "test %rdi, %rdi\n"
        "jz 1f\n"
        "lea 32(%rsp), %rbp\n"
        "1:\n"
        "call *%rsi\n"
        "add $64, %rsp\n"
        "pop %rbp\n"
        "ret\n"
        ".globl fx_fake_ret_a\n"
        "fx_fake_ret_a:\n"
        "ud2\n"
        ".globl fx_fake_ret_b\n"
        "fx_fake_ret_b:\n"
        "ud2\n"
        ".size fx_call_fake_frames, .-fx_call_fake_frames\n");
#endif

__attribute__((noinline)) static void deeper(long d) {
  if (d > 0)
    deeper(d - 1);
  else
    take_lock();
  __asm__ volatile("" ::: "memory"); /* not a tail call */
}

static const char *mode = "";

static void *waiter(void *arg) {
  (void)arg;
  atomic_store(&waiter_tid, fx_tid());
  for (long i = 0; i < k_rounds; i++) {
    while (sem_wait(&go) != 0) {}
#if defined(__x86_64__)
    if (!strcmp(mode, "rbp"))
      fx_call_with_rbp(i, via_a);
    else if (!strcmp(mode, "fallback"))
      fx_call_fake_frames(i % 2 == 0, via_a);
    else
#endif
        if (!strcmp(mode, "depth"))
      deeper(i % 12 + 1);
    else if (i % 2 == 0)
      via_a();
    else
      via_b();
    sem_post(&done);
  }
  return NULL;
}

int main(int argc, char **argv) {
  k_rounds = fx_arg(argc, argv, 1, 20);
  if (argc > 2) mode = argv[2];
#if !defined(__x86_64__)
  if (!strcmp(mode, "rbp") || !strcmp(mode, "fallback")) fx_die("rbp, fallback: x86-64 only", ENOSYS);
#endif
  pthread_t th;
  if (sem_init(&go, 0, 0) != 0 || sem_init(&done, 0, 0) != 0) fx_die("sem_init", errno);
  fx_ok(pthread_create(&th, NULL, waiter, NULL), "pthread_create");
  FX_WAIT_UNTIL(atomic_load(&waiter_tid) != 0, "thread start");
  for (long i = 0; i < k_rounds; i++) fx_contend_once(&mutex, &go, &done);
  fx_ok(pthread_join(th, NULL), "pthread_join");
#if defined(__x86_64__)
  fx_info("mutex=%p waiter_tid=%d via_a=%p via_b=%p fake_a=%p fake_b=%p", (void *)&mutex, (int)atomic_load(&waiter_tid),
          (void *)(uintptr_t)via_a, (void *)(uintptr_t)via_b, (const void *)fx_fake_ret_a, (const void *)fx_fake_ret_b);
#else
  fx_info("mutex=%p waiter_tid=%d via_a=%p via_b=%p", (void *)&mutex, (int)atomic_load(&waiter_tid),
          (void *)(uintptr_t)via_a, (void *)(uintptr_t)via_b);
#endif
  printf("stacks rounds=%ld taken=%ld\n", k_rounds, taken);
  return 0;
}
