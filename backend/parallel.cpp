#include "parallel.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include <cblas.h>

#include "blas.hpp"

namespace tapegrad {

namespace {

int default_threads() {
    const unsigned cores = std::thread::hardware_concurrency();
    return cores == 0 ? 1 : static_cast<int>(cores);
}

// A fixed set of worker threads that each run one part of the current job, then wait for the
// next. Workers are started on first use and live until the program ends.
class Pool {
  public:
    ~Pool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        wake_.notify_all();
        for (std::thread& t : workers_) t.join();
    }

    // Runs part(0) .. part(parts - 1), part(0) on the calling thread, with OpenBLAS on one
    // thread meanwhile. OpenBLAS's thread count is one setting for the whole process, so it is
    // changed and put back under the same lock as the job: two threads' jobs would otherwise
    // each save the other's 1 and leave it behind.
    void run(int parts, const std::function<void(int)>& part) {
        std::lock_guard<std::mutex> one_job(run_mutex_);  // callers on other threads wait
        init_blas();
        const int blas_threads = openblas_get_num_threads();
        openblas_set_num_threads(1);
        struct RestoreBlas {
            int threads;
            ~RestoreBlas() { openblas_set_num_threads(threads); }
        } restore{blas_threads};
        ensure_workers(parts - 1);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            job_ = &part;
            parts_ = parts;
            pending_ = parts - 1;
            errors_.assign(static_cast<std::size_t>(parts), nullptr);
            ++generation_;
        }
        wake_.notify_all();
        try {
            part(0);
        } catch (...) {
            errors_[0] = std::current_exception();
        }
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return pending_ == 0; });
        job_ = nullptr;
        for (const std::exception_ptr& e : errors_)
            if (e) std::rethrow_exception(e);
    }

  private:
    void ensure_workers(int count) {
        while (static_cast<int>(workers_.size()) < count) {
            const int index = static_cast<int>(workers_.size()) + 1;  // part 0 is the caller's
            workers_.emplace_back([this, index] { work(index); });
        }
    }

    void work(int index) {
        std::uint64_t seen = 0;
        for (;;) {
            const std::function<void(int)>* job;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
                if (stop_) return;
                seen = generation_;
                if (index >= parts_) continue;  // this job needs fewer threads
                job = job_;
            }
            std::exception_ptr error;
            try {
                (*job)(index);
            } catch (...) {
                error = std::current_exception();
            }
            std::lock_guard<std::mutex> lock(mutex_);
            errors_[static_cast<std::size_t>(index)] = error;
            if (--pending_ == 0) done_.notify_one();
        }
    }

    std::vector<std::thread> workers_;
    std::mutex run_mutex_, mutex_;
    std::condition_variable wake_, done_;
    const std::function<void(int)>* job_ = nullptr;
    int parts_ = 0, pending_ = 0;
    std::uint64_t generation_ = 0;
    std::vector<std::exception_ptr> errors_;
    bool stop_ = false;
};

std::atomic<int> thread_count{default_threads()};
thread_local bool inside_parallel = false;

Pool& pool() {
    static Pool p;
    return p;
}

}  // namespace

void set_num_threads(int threads) {
    thread_count = std::max(1, threads);
    set_blas_threads(thread_count);
}

int num_threads() { return thread_count; }

int parallel_parts(std::size_t n, std::size_t min_per_part) {
    if (inside_parallel) return 1;
    const std::size_t most = n / std::max<std::size_t>(min_per_part, 1);
    return static_cast<int>(
        std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(thread_count.load()), most)));
}

void parallel_for(std::size_t n,
                  const std::function<void(std::size_t begin, std::size_t end, int t)>& body,
                  std::size_t min_per_part) {
    const int parts = parallel_parts(n, min_per_part);
    if (parts <= 1) {
        if (n > 0) body(0, n, 0);
        return;
    }
    auto range = [n, parts](int t) {
        return std::make_pair(n * static_cast<std::size_t>(t) / parts,
                              n * static_cast<std::size_t>(t + 1) / parts);
    };
    std::function<void(int)> part = [&](int t) {
        inside_parallel = true;
        const auto [begin, end] = range(t);
        try {
            body(begin, end, t);
        } catch (...) {
            inside_parallel = false;
            throw;
        }
        inside_parallel = false;
    };
    pool().run(parts, part);
}

}  // namespace tapegrad
