/* fx-stdmutex.cc - exactly K contended std::mutex acquisitions, in C++.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-stdmutex [K=5]
 * A C++ program locks through the standard library: std::lock_guard calls
 * std::mutex::lock, which calls __gthread_mutex_lock, which calls
 * pthread_mutex_lock; all three are code of libstdc++'s headers, inlined
 * into the caller when optimised, real frames when not. weft must name the
 * lock and its waits by the program's line (the one marked WAIT below), not
 * by gthr-default.h. Built twice: fx-stdmutex (-O2) and fx-stdmutex-O0.
 * Each round: main locks `hot`, lets the waiter go, and keeps the lock until
 * the waiter sleeps on it (glibc's lock word is 2), then unlocks and waits
 * for the waiter's unlock. So the waiter's K acquisitions are contended.
 * stdout: "fx-stdmutex rounds=K counter=K"
 * stderr: "fx: wait_line=N"
 */
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

static std::mutex hot;
static std::atomic<long> step{0};
static long counter;

/* Spin (yielding) until pred holds; give up after 20 s. */
template <class Pred> static void wait_until(Pred pred, const char *what) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) {
      std::fprintf(stderr, "fx: error: timed out waiting for %s\n", what);
      std::exit(1);
    }
    std::this_thread::yield();
  }
}

static int wait_line;
static void waiter(long k) {
  for (long r = 0; r < k; r++) {
    wait_until([r] { return step.load() == 2 * r + 1; }, "the holder");
    {
      // clang-format off
      std::lock_guard<std::mutex> g(hot); wait_line = __LINE__; // WAIT: one line
      // clang-format on
      counter++;
    }
    step.store(2 * r + 2);
  }
}

int main(int argc, char **argv) {
  long k = argc > 1 ? std::atol(argv[1]) : 5;
  if (k < 1) k = 5;
  std::thread t(waiter, k);
  for (long r = 0; r < k; r++) {
    {
      std::lock_guard<std::mutex> g(hot);
      step.store(2 * r + 1);
      wait_until([] { return __atomic_load_n(&hot.native_handle()->__data.__lock, __ATOMIC_RELAXED) == 2; },
                 "the waiter to sleep on the lock");
    }
    wait_until([r] { return step.load() == 2 * r + 2; }, "the waiter's unlock");
  }
  t.join();
  std::fprintf(stderr, "fx: wait_line=%d\n", wait_line);
  std::printf("fx-stdmutex rounds=%ld counter=%ld\n", k, counter);
  return counter == k ? 0 : 1;
}
