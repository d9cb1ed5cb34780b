#include "base/mutex.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace tiersync {
namespace {

// True if another thread can take `mu` right now.
bool FreeForAnotherThread(Mutex* mu) {
  bool taken = false;
  std::thread([&] {
    if (mu->TryLock()) {
      taken = true;
      mu->Unlock();
    }
  }).join();
  return taken;
}

TEST(MutexTest, MutexLockHoldsTheLockForItsScope) {
  Mutex mu;
  {
    MutexLock l(&mu);
    EXPECT_FALSE(FreeForAnotherThread(&mu));
  }
  EXPECT_TRUE(FreeForAnotherThread(&mu));
}

TEST(MutexTest, MutexLockUnlocksAndLocksAgainWithinItsScope) {
  Mutex mu;
  {
    MutexLock l(&mu);
    l.Unlock();
    EXPECT_TRUE(FreeForAnotherThread(&mu));
    l.Lock();
    EXPECT_FALSE(FreeForAnotherThread(&mu));
  }
  EXPECT_TRUE(FreeForAnotherThread(&mu));
}

// Takes `*mu` through a MutexLock, releases it early, then takes it again directly; returns
// with `*mu` held if the MutexLock's end left it alone. (Beyond what the analysis follows.)
void LockReleaseEarlyAndRelockDirectly(Mutex* mu) NO_THREAD_SAFETY_ANALYSIS {
  MutexLock l(mu);
  l.Unlock();
  mu->Lock();
}

// A MutexLock released early leaves the mutex alone when it goes out of scope.
TEST(MutexTest, MutexLockReleasedEarlyDoesNotUnlockAgain) {
  Mutex mu;
  LockReleaseEarlyAndRelockDirectly(&mu);
  EXPECT_FALSE(FreeForAnotherThread(&mu));
  mu.AssertHeld();
  mu.Unlock();
}

TEST(MutexTest, TryLockFailsWhileHeldAndSucceedsWhenFree) {
  Mutex mu;
  if (!mu.TryLock()) FAIL() << "TryLock failed on a free mutex";
  EXPECT_FALSE(FreeForAnotherThread(&mu));
  mu.Unlock();
  EXPECT_TRUE(FreeForAnotherThread(&mu));
}

TEST(MutexTest, IncrementsUnderTheLockAreNotLost) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  Mutex mu;
  int64_t count = 0;  // a plain int: only the lock keeps the increments whole
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        MutexLock l(&mu);
        ++count;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(count, int64_t{kThreads} * kPerThread);
}

// A waiter released by SignalAll holds the lock again when Wait returns, and Wait let the
// signalling thread take the lock meanwhile (else this test would never end).
TEST(CondVarTest, WaitReleasesTheLockAndHoldsItAgainOnReturn) {
  Mutex mu;
  CondVar cv;
  bool ready = false;
  bool held_after_wait = false;
  std::thread waiter([&] {
    MutexLock l(&mu);
    while (!ready) cv.Wait(&mu);
    held_after_wait = !FreeForAnotherThread(&mu);
  });
  {
    MutexLock l(&mu);
    ready = true;
  }
  cv.SignalAll();
  waiter.join();
  EXPECT_TRUE(held_after_wait);
}

TEST(CondVarTest, SignalWakesOneOfTheWaiters) {
  Mutex mu;
  CondVar cv;
  int tokens = 0;
  std::atomic<int> woken{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&] {
      MutexLock l(&mu);
      while (tokens == 0) cv.Wait(&mu);
      --tokens;
      ++woken;
    });
  }
  for (int i = 0; i < 3; ++i) {
    MutexLock l(&mu);
    ++tokens;
    cv.Signal();
  }
  for (std::thread& t : waiters) t.join();
  EXPECT_EQ(woken.load(), 3);
}

TEST(CondVarTest, WaitForMicrosReportsTheTimeRunningOut) {
  Mutex mu;
  CondVar cv;
  MutexLock l(&mu);
  // Nobody signals: every return is a timeout or a spurious wake-up, and the time does run
  // out eventually.
  bool timed_out = false;
  for (int i = 0; i < 100 && !timed_out; ++i) timed_out = !cv.WaitForMicros(&mu, 1000);
  EXPECT_TRUE(timed_out);
  EXPECT_FALSE(FreeForAnotherThread(&mu));
}

// A timeout past the clock's range (UINT64_MAX micros) waits for the signal instead of
// overflowing into a deadline in the past (which would return at once, as a timeout).
TEST(CondVarTest, WaitForMicrosWithAHugeTimeoutWaitsForTheSignal) {
  Mutex mu;
  CondVar cv;
  bool waiting = false;
  bool ready = false;
  int timeouts = 0;
  std::thread waiter([&] {
    MutexLock l(&mu);
    waiting = true;
    cv.SignalAll();
    while (!ready) {
      if (!cv.WaitForMicros(&mu, UINT64_MAX)) ++timeouts;
    }
  });
  {
    MutexLock l(&mu);
    // The waiter holds `mu` from setting `waiting` until its wait releases it: once this
    // thread has the lock and sees `waiting`, the waiter is inside WaitForMicros.
    while (!waiting) cv.Wait(&mu);
    ready = true;
    cv.SignalAll();
  }
  waiter.join();
  EXPECT_EQ(timeouts, 0);
}

}  // namespace
}  // namespace tiersync
