// TaskThreads: a few threads of the node's own that run queued tasks in order, so that work
// which waits on the network or copies files (the miss path's index fetches and cache
// assembly) never runs on the HTTP server's workers. The queue is bounded. Thread-safe.
#ifndef TIERSYNC_NODE_TASK_THREADS_H_
#define TIERSYNC_NODE_TASK_THREADS_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace tiersync::node {

class TaskThreads {
 public:
  // `threads` threads (at least one); at most `max_queued` tasks waiting for one.
  TaskThreads(size_t threads, size_t max_queued);
  ~TaskThreads();  // Stop()
  TaskThreads(const TaskThreads&) = delete;
  TaskThreads& operator=(const TaskThreads&) = delete;

  // Queues `task`; false (and `task` dropped) when the queue is full — unless `always` — or
  // the threads are stopped.
  bool Submit(std::function<void()> task, bool always = false);

  // Lets the running tasks finish, drops the queued ones, joins. Idempotent.
  void Stop();

 private:
  void Run();

  const size_t max_queued_;
  Mutex mu_;
  CondVar cv_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_TASK_THREADS_H_
