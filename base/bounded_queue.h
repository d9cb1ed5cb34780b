// BoundedQueue: a blocking multi-producer multi-consumer FIFO with a capacity, for pipelines
// whose stages run on different threads. Close() wakes everyone: Push then fails and Pop
// drains what is left, then returns nullopt.
#ifndef TIERSYNC_BASE_BOUNDED_QUEUE_H_
#define TIERSYNC_BASE_BOUNDED_QUEUE_H_

#include <cstddef>
#include <deque>
#include <optional>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace tiersync {

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}

  // Blocks while full. Returns false (dropping `v`) if the queue is closed.
  bool Push(T v) EXCLUDES(mu_) {
    MutexLock l(&mu_);
    while (!closed_ && q_.size() >= capacity_) not_full_.Wait(&mu_);
    if (closed_) return false;
    q_.push_back(std::move(v));
    not_empty_.Signal();
    return true;
  }

  // Blocks while empty and open. nullopt once closed and drained.
  std::optional<T> Pop() EXCLUDES(mu_) {
    MutexLock l(&mu_);
    while (!closed_ && q_.empty()) not_empty_.Wait(&mu_);
    if (q_.empty()) return std::nullopt;
    T v = std::move(q_.front());
    q_.pop_front();
    not_full_.Signal();
    return v;
  }

  // Non-blocking variants: false / nullopt instead of waiting.
  bool TryPush(T v) EXCLUDES(mu_) {
    MutexLock l(&mu_);
    if (closed_ || q_.size() >= capacity_) return false;
    q_.push_back(std::move(v));
    not_empty_.Signal();
    return true;
  }
  std::optional<T> TryPop() EXCLUDES(mu_) {
    MutexLock l(&mu_);
    if (q_.empty()) return std::nullopt;
    T v = std::move(q_.front());
    q_.pop_front();
    not_full_.Signal();
    return v;
  }

  void Close() EXCLUDES(mu_) {
    MutexLock l(&mu_);
    closed_ = true;
    not_full_.SignalAll();
    not_empty_.SignalAll();
  }

 private:
  const size_t capacity_;
  Mutex mu_;
  CondVar not_full_, not_empty_;
  std::deque<T> q_ GUARDED_BY(mu_);
  bool closed_ GUARDED_BY(mu_) = false;
};

}  // namespace tiersync

#endif  // TIERSYNC_BASE_BOUNDED_QUEUE_H_
