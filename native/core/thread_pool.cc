#include "core/thread_pool.h"

#include <algorithm>

namespace inferd {

ThreadPool::ThreadPool(int threads) {
  const int extra = std::max(threads, 1) - 1;
  workers_.reserve(static_cast<size_t>(extra));
  for (int i = 0; i < extra; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::dispatch(int64_t n, int64_t grain, RangeFn fn) {
  // Chunks: a few per thread for balance, never smaller than the grain.
  const int64_t threads = size();
  int64_t chunks = std::min<int64_t>(threads * 4, (n + grain - 1) / std::max<int64_t>(grain, 1));
  chunks = std::max<int64_t>(chunks, 1);
  const int64_t chunk = (n + chunks - 1) / chunks;
  chunks = (n + chunk - 1) / chunk;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    job_n_ = n;
    job_chunk_ = chunk;
    job_chunks_ = chunks;
    next_chunk_ = 0;
    pending_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  // The caller works too, then waits for the workers to finish their last chunk.
  for (;;) {
    int64_t c;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      c = next_chunk_ < job_chunks_ ? next_chunk_++ : -1;
    }
    if (c < 0) break;
    fn(c * chunk, std::min(n, (c + 1) * chunk));
  }
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return pending_ == 0; });
  job_ = nullptr;
}

void ThreadPool::worker_loop(int) {
  uint64_t seen = 0;
  for (;;) {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    while (next_chunk_ < job_chunks_) {
      const int64_t c = next_chunk_++;
      const RangeFn* fn = job_;
      const int64_t chunk = job_chunk_, n = job_n_;
      lock.unlock();
      (*fn)(c * chunk, std::min(n, (c + 1) * chunk));
      lock.lock();
    }
    if (--pending_ == 0) done_.notify_one();
  }
}

}  // namespace inferd
