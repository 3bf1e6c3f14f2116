#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace inferd {
namespace {

using Clock = std::chrono::steady_clock;

// How long a worker spins for the next job before it sleeps: long enough to bridge the gap between
// two layers of a model (so a run keeps its workers awake), short enough that an idle pool costs
// nothing measurable.
constexpr auto kWorkerSpin = std::chrono::microseconds(100);
// How long the caller spins for the workers' last chunks before it sleeps (a worker that has lost
// its core to another process would otherwise have the caller spin against it).
constexpr auto kCallerSpin = std::chrono::microseconds(30);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

constexpr uint64_t tag_of(uint64_t claim) { return claim >> 32; }
constexpr uint64_t index_of(uint64_t claim) { return claim & 0xFFFFFFFFu; }

}  // namespace

ThreadPool::ThreadPool(int threads) {
  const int extra = std::max(threads, 1) - 1;
  workers_.reserve(static_cast<size_t>(extra));
  for (int i = 0; i < extra; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::run_chunks(uint64_t generation) {
  const uint64_t tag = generation & 0xFFFFFFFFu;
  for (;;) {
    uint64_t claim = claim_.load(std::memory_order_acquire);
    if (tag_of(claim) != tag) return;
    // The job's fields are those of `tag` if the claim below succeeds (the caller cannot start the
    // next job before this one's claimed chunks are done).
    const RangeFn* fn = job_.load(std::memory_order_relaxed);
    const int64_t n = job_n_.load(std::memory_order_relaxed), chunk = job_chunk_.load(std::memory_order_relaxed),
                  chunks = job_chunks_.load(std::memory_order_relaxed);
    if (static_cast<int64_t>(index_of(claim)) >= chunks) return;
    if (!claim_.compare_exchange_weak(claim, claim + 1, std::memory_order_acq_rel, std::memory_order_relaxed))
      continue;
    const int64_t c = static_cast<int64_t>(index_of(claim));
    (*fn)(c * chunk, std::min(n, (c + 1) * chunk));
    if (done_chunks_.fetch_add(1, std::memory_order_seq_cst) + 1 == chunks &&
        caller_waiting_.load(std::memory_order_seq_cst)) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
    }
  }
}

void ThreadPool::dispatch(int64_t n, int64_t grain, RangeFn fn) {
  // Chunks: a few per thread for balance, never smaller than the grain. A loop that asks for
  // exactly one item per thread (a product split into one block per thread) gets one chunk each.
  const int64_t threads = size();
  int64_t chunks = n <= threads ? n : std::min<int64_t>(threads * 4, (n + grain - 1) / std::max<int64_t>(grain, 1));
  chunks = std::clamp<int64_t>(chunks, 1, int64_t{1} << 30);
  const int64_t chunk = (n + chunks - 1) / chunks;
  chunks = (n + chunk - 1) / chunk;
  const uint64_t generation = generation_.load(std::memory_order_relaxed) + 1;
  job_.store(&fn, std::memory_order_relaxed);
  job_n_.store(n, std::memory_order_relaxed);
  job_chunk_.store(chunk, std::memory_order_relaxed);
  job_chunks_.store(chunks, std::memory_order_relaxed);
  done_chunks_.store(0, std::memory_order_relaxed);
  claim_.store((generation & 0xFFFFFFFFu) << 32, std::memory_order_release);
  // Wakes the workers. With sleepers_ read after it (both seq_cst) this pairs with a worker's
  // "sleepers_++, then read generation_": either the worker sees the new generation, or this
  // thread sees the sleeper and notifies it.
  generation_.store(generation, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  run_chunks(generation);
  // Every chunk is claimed; wait for those other threads are still running. Workers that wake
  // after this find the job's chunks all claimed and are not waited for.
  const auto spin_until = Clock::now() + kCallerSpin;
  for (int spins = 0; done_chunks_.load(std::memory_order_acquire) != chunks; ++spins) {
    cpu_relax();
    if ((spins & 15) == 15 && Clock::now() > spin_until) {
      std::unique_lock<std::mutex> lock(mutex_);
      caller_waiting_.store(true, std::memory_order_seq_cst);
      done_.wait(lock, [&] { return done_chunks_.load(std::memory_order_seq_cst) == chunks; });
      caller_waiting_.store(false, std::memory_order_relaxed);
      break;
    }
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    // Spin for the next job, then sleep until it comes.
    const auto spin_until = Clock::now() + kWorkerSpin;
    uint64_t generation = generation_.load(std::memory_order_acquire);
    for (int spins = 0; generation == seen && !stopping_.load(std::memory_order_relaxed); ++spins) {
      cpu_relax();
      if ((spins & 15) == 15 && Clock::now() > spin_until) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        wake_.wait(lock, [&] { return stopping_.load() || generation_.load(std::memory_order_seq_cst) != seen; });
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
      }
      generation = generation_.load(std::memory_order_acquire);
    }
    if (stopping_.load()) return;
    seen = generation;
    run_chunks(generation);
  }
}

}  // namespace inferd
