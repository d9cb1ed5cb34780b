// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with the annotations of
// base/thread_annotations.h, so that clang's -Wthread-safety can check what each lock guards.
//
//   class Counter {
//    public:
//     void Add() EXCLUDES(mu_) { MutexLock l(&mu_); ++n_; }
//    private:
//     Mutex mu_;
//     int n_ GUARDED_BY(mu_) = 0;
//   };
//
// A condition is waited for in a loop, so that the analysis sees the guarded reads under the
// lock (a predicate lambda is analysed as a function of its own, which holds nothing):
//
//   MutexLock l(&mu_);
//   while (!ready_) cv_.Wait(&mu_);
//
// Thread safety: Mutex and CondVar are for use by many threads (that is their point); a
// MutexLock belongs to the thread that made it. None of them is copyable or movable.
#ifndef TIERSYNC_BASE_MUTEX_H_
#define TIERSYNC_BASE_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "base/thread_annotations.h"

namespace tiersync {

class CondVar;

// A non-recursive exclusive lock.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Blocks until this thread holds the lock. REQUIRES: not held by this thread.
  void Lock() ACQUIRE() { mu_.lock(); }
  // REQUIRES: held by this thread.
  void Unlock() RELEASE() { mu_.unlock(); }
  // Takes the lock if it is free; true if taken.
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // Tells the analysis that the lock is held here (a caller's promise it cannot see). No run
  // time check: std::mutex cannot tell who holds it.
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `*mu` from construction to destruction, except between an Unlock() and the next
// Lock() (for a call that must run without the lock in the middle of a locked scope).
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() {
    if (held_) mu_->Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // REQUIRES: held through this MutexLock.
  void Unlock() RELEASE() {
    held_ = false;
    mu_->Unlock();
  }
  // REQUIRES: released by Unlock().
  void Lock() ACQUIRE() {
    mu_->Lock();
    held_ = true;
  }

 private:
  Mutex* const mu_;
  bool held_ = true;
};

// A condition variable for a Mutex. Every wait may also return spuriously, so callers wait in
// a loop on their condition.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases `*mu`, blocks until woken, takes `*mu` again. REQUIRES: `*mu` held.
  void Wait(Mutex* mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> l(mu->mu_, std::adopt_lock);
    cv_.wait(l);
    l.release();  // `*mu` stays held, as it was on entry
  }

  // Longer timeouts are cut to this (about 35 years), so that the deadline cannot overflow.
  static constexpr uint64_t kMaxWaitMicros = uint64_t{1} << 50;

  // As Wait, but returns after at most `timeout_micros` (measured on the steady clock) if
  // nobody wakes it. Returns false if it returned because the time ran out, true if woken
  // (or spuriously).
  bool WaitForMicros(Mutex* mu, uint64_t timeout_micros) REQUIRES(mu) {
    const auto timeout = std::chrono::microseconds(
        static_cast<int64_t>(timeout_micros < kMaxWaitMicros ? timeout_micros : kMaxWaitMicros));
    std::unique_lock<std::mutex> l(mu->mu_, std::adopt_lock);
    const std::cv_status r = cv_.wait_for(l, timeout);
    l.release();
    return r == std::cv_status::no_timeout;
  }

  // Wakes one waiter / every waiter. The caller may but need not hold the Mutex.
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace tiersync

#endif  // TIERSYNC_BASE_MUTEX_H_
