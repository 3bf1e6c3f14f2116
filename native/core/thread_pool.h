// The intra-op thread pool: splits one kernel's loop over a fixed set of threads. The calling thread
// takes a share of the work itself, so a pool of size 1 has no threads and costs nothing.
//
// A model runs one short parallel loop after another (a few microseconds each for small layers), so
// handing out work must cost far less than waking a thread: the workers spin on an atomic job
// counter for a while after each loop before they sleep, chunks are claimed with one atomic
// increment (no mutex per chunk), and the counters the threads write sit on cache lines of their own.
#pragma once

#include <atomic>
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
  // returns when all are done. Runs inline when n is small or the pool has one thread. Not
  // re-entrant: fn must not call parallel_for on the same pool, and one thread at a time may call it.
  template <typename F> void parallel_for(int64_t n, int64_t grain, F&& fn) {
    if (n <= 0) return;
    if (size() == 1 || n <= grain) { fn(int64_t{0}, n); return; }
    RangeFn ref(fn);
    dispatch(n, grain, ref);
  }

 private:
  void dispatch(int64_t n, int64_t grain, RangeFn fn);
  void worker_loop();
  // Claims and runs chunks of the job tagged `generation` until none is left; false if that job is over.
  void run_chunks(uint64_t generation);

  std::vector<std::thread> workers_;

  // The job in flight, written by the caller before it publishes the job's tag in claim_. Atomics
  // (relaxed) only because a worker that wakes late may read them while the next job is being
  // written; it then fails to claim (the tag moved on) and discards what it read.
  std::atomic<const RangeFn*> job_{nullptr};
  std::atomic<int64_t> job_n_{0}, job_chunk_{0}, job_chunks_{0};

  // Each counter on its own cache line: every thread writes them, and sharing a line would bounce
  // it between cores on every chunk.
  alignas(64) std::atomic<uint64_t> generation_{0};  // bumped once per job; idle workers wait for a change
  // The next chunk to claim, tagged with its job: (generation << 32) | chunk index. A worker claims
  // by compare-and-swap, so it can never claim a chunk of a job other than the one it read.
  alignas(64) std::atomic<uint64_t> claim_{0};
  alignas(64) std::atomic<int64_t> done_chunks_{0};  // chunks of the current job completed
  alignas(64) std::atomic<int> sleepers_{0};         // workers blocked on wake_ (or about to be)
  std::atomic<bool> caller_waiting_{false};          // the caller blocked on done_ (or about to be)
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_, done_;
};

}  // namespace inferd
