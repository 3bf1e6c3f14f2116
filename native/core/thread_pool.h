// The intra-op thread pool: splits one kernel's loop over a fixed set of threads. The calling thread
// takes a share of the work itself, so a pool of size 1 has no threads and costs nothing.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace inferd {

// A non-owning callable reference: no allocation per parallel_for, unlike std::function.
class RangeFn {
 public:
  template <typename F>
  RangeFn(F& f) : object_(&f), call_([](void* o, int64_t b, int64_t e) { (*static_cast<F*>(o))(b, e); }) {}
  void operator()(int64_t begin, int64_t end) const { call_(object_, begin, end); }

 private:
  void* object_;
  void (*call_)(void*, int64_t, int64_t);
};

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) over disjoint chunks covering [0, n), at least `grain` items per chunk, and
  // returns when all are done. Runs inline when n is small or the pool has one thread.
  template <typename F> void parallel_for(int64_t n, int64_t grain, F&& fn) {
    if (n <= 0) return;
    if (size() == 1 || n <= grain) { fn(int64_t{0}, n); return; }
    RangeFn ref(fn);
    dispatch(n, grain, ref);
  }

 private:
  void dispatch(int64_t n, int64_t grain, RangeFn fn);
  void worker_loop(int index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  // The job in flight.
  const RangeFn* job_ = nullptr;
  int64_t job_n_ = 0, job_chunk_ = 0, job_chunks_ = 0;
  int64_t next_chunk_ = 0;
  int pending_ = 0;
};

}  // namespace inferd
