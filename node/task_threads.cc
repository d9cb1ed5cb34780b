#include "node/task_threads.h"

#include <algorithm>

namespace tiersync::node {

TaskThreads::TaskThreads(size_t threads, size_t max_queued) : max_queued_(max_queued) {
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i)
    threads_.emplace_back([this] { Run(); });
}

TaskThreads::~TaskThreads() { Stop(); }

bool TaskThreads::Submit(std::function<void()> task, bool always) {
  {
    MutexLock l(&mu_);
    if (stopping_ || (!always && queue_.size() >= max_queued_)) return false;
    queue_.push_back(std::move(task));
  }
  cv_.Signal();
  return true;
}

void TaskThreads::Stop() {
  {
    MutexLock l(&mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    queue_.clear();
  }
  cv_.SignalAll();
  for (auto& t : threads_) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();  // stopped by its own last task: it returns when that task does
    } else if (t.joinable()) {
      t.join();
    }
  }
  threads_.clear();
}

void TaskThreads::Run() {
  for (;;) {
    std::function<void()> task;
    {
      MutexLock l(&mu_);
      while (!stopping_ && queue_.empty()) cv_.Wait(&mu_);
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace tiersync::node
