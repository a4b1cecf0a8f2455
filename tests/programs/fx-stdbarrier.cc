/* fx-stdbarrier.cc - exactly R waits at a C++20 std::barrier, which sleep on a futex.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-stdbarrier [R=4]
 * libstdc++'s std::barrier (and std::latch, std::counting_semaphore and
 * std::atomic<T>::wait) spins a moment, then sleeps in FUTEX_WAIT through
 * syscall(), on a word of the library's own (a slot of its pool of words
 * for types narrower than one). Two threads meet at `meet` R times; the
 * early one arrives first every round (main arrives only once it sleeps:
 * its task state is S, after it said it passed the round before), so it
 * waits R times, each ended by main's arrival (its FUTEX_WAKE), and main
 * never waits. The waits are at the line marked WAIT.
 * stdout: "fx-stdbarrier rounds=R passed=R"
 * stderr: "fx: arrive_line=N early_tid=T"
 */
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include <sys/syscall.h>
#include <unistd.h>

static std::barrier<> meet(2);
static std::atomic<long> early_tid{0}, passed{0};
static int arrive_line;

/* The scheduler state of one of our threads ('S' asleep), or 0. */
static char task_state(long tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto p = s.rfind(')');
  return p != std::string::npos && p + 2 < s.size() ? s[p + 2] : 0;
}

/* Sleep-poll until pred holds; give up after 20 s. */
template <class Pred> static void wait_until(Pred pred, const char *what) {
  for (int i = 0; !pred(); i++) {
    if (i > 200000) {
      std::fprintf(stderr, "fx: error: timed out waiting for %s\n", what);
      std::exit(1);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

int main(int argc, char **argv) {
  long rounds = argc > 1 ? std::atol(argv[1]) : 4;
  if (rounds < 1) rounds = 4;
  std::thread early([rounds] {
    early_tid = syscall(SYS_gettid);
    for (long r = 0; r < rounds; r++) {
      // clang-format off
      meet.arrive_and_wait(); arrive_line = __LINE__; // WAIT: one line
      // clang-format on
      passed = r + 1;
    }
  });
  wait_until([] { return early_tid.load() != 0; }, "the early thread");
  for (long r = 0; r < rounds; r++) {
    wait_until([r] { return passed.load() == r && task_state(early_tid.load()) == 'S'; },
               "the early thread asleep at the barrier");
    meet.arrive_and_wait();
  }
  early.join();
  std::fprintf(stderr, "fx: arrive_line=%d early_tid=%ld\n", arrive_line, early_tid.load());
  std::printf("fx-stdbarrier rounds=%ld passed=%ld\n", rounds, passed.load());
  return passed.load() == rounds ? 0 : 1;
}
