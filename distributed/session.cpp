// Session: MPI's start and end, the communicator, and the small collectives the training loop
// needs. Every wait goes through Impl::wait, which polls with a deadline instead of blocking, so
// a rank whose partner died or hangs ends the job instead of waiting for ever.
#include "mpi_session.hpp"

#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

namespace tapegrad::distributed {

bool available() { return true; }

void Session::Impl::check(int err, const std::string& what) const {
    if (err == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(err, text, &length);
    throw std::runtime_error("distributed: " + what + " failed on rank " + std::to_string(rank) + ": " +
                             std::string(text, static_cast<std::size_t>(length)));
}

void Session::Impl::wait(std::vector<MPI_Request>& requests, const std::string& what) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    for (std::size_t polls = 0;; ++polls) {
        int done = 0;
        check(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done,
                          MPI_STATUSES_IGNORE),
              what);
        if (done) break;
        if (polls > 64) std::this_thread::yield();  // a rank may share its core with another
        if (polls % 1024 == 0 &&
            std::chrono::duration<double>(clock::now() - start).count() > timeout)
            abort("waited more than " + std::to_string(static_cast<int>(timeout)) + " s for " +
                      what + "; another rank has stopped or hangs, so the job ends "
                      "(TAPEGRAD_DIST_TIMEOUT sets the limit in seconds)",
                  124);
    }
    waited += std::chrono::duration<double>(clock::now() - start).count();
}

void Session::Impl::abort(const std::string& message, int code) const {
    std::cerr << "rank " << rank << ": " << message << std::endl;
    MPI_Abort(comm == MPI_COMM_NULL ? MPI_COMM_WORLD : comm, code);
    std::_Exit(code);  // MPI_Abort does not return; in case it does
}

Session::Session(int& argc, char**& argv) : impl_(std::make_unique<Impl>()) {
    Impl& s = *impl_;
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
        int provided = 0;
        if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
            throw std::runtime_error("distributed: MPI_Init_thread failed");
        s.finalize = true;
        if (provided < MPI_THREAD_FUNNELED) {
            MPI_Finalize();
            throw std::runtime_error("distributed: this MPI library does not offer MPI_THREAD_FUNNELED");
        }
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &s.comm);
    MPI_Comm_set_errhandler(s.comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(s.comm, &s.rank);
    MPI_Comm_size(s.comm, &s.size);
    MPI_Comm local;
    s.check(MPI_Comm_split_type(s.comm, MPI_COMM_TYPE_SHARED, s.rank, MPI_INFO_NULL, &local),
            "MPI_Comm_split_type");
    MPI_Comm_rank(local, &s.local_rank);
    MPI_Comm_size(local, &s.local_size);
    MPI_Comm_free(&local);
    if (const char* t = std::getenv("TAPEGRAD_DIST_TIMEOUT")) {
        const double seconds = std::atof(t);
        if (seconds > 0) s.timeout = seconds;
    }
}

Session::~Session() {
    Impl& s = *impl_;
    if (s.comm != MPI_COMM_NULL) MPI_Comm_free(&s.comm);
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (s.finalize && !finalized) MPI_Finalize();
}

int Session::rank() const { return impl_->rank; }
int Session::size() const { return impl_->size; }
int Session::local_rank() const { return impl_->local_rank; }
int Session::local_size() const { return impl_->local_size; }

std::size_t Session::default_threads() const {
    cpu_set_t set;
    CPU_ZERO(&set);
    long usable = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (usable <= 0) usable = online > 0 ? online : 1;
    // Not bound (every core allowed): the host's ranks share them. Bound: the cores given.
    if (usable >= online) usable /= impl_->local_size;
    return static_cast<std::size_t>(usable > 0 ? usable : 1);
}

void Session::barrier() const {
    std::vector<MPI_Request> r(1);
    impl_->check(MPI_Ibarrier(impl_->comm, &r[0]), "barrier");
    impl_->wait(r, "the other ranks at a barrier");
}

bool Session::any(bool flag) const {
    int in = flag ? 1 : 0, out = 0;
    std::vector<MPI_Request> r(1);
    impl_->check(MPI_Iallreduce(&in, &out, 1, MPI_INT, MPI_MAX, impl_->comm, &r[0]), "any");
    impl_->wait(r, "the other ranks to agree on a stop");
    return out != 0;
}

std::vector<std::uint64_t> Session::all_gather(std::uint64_t value) const {
    std::vector<std::uint64_t> all(static_cast<std::size_t>(impl_->size));
    std::vector<MPI_Request> r(1);
    impl_->check(MPI_Iallgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T,
                                impl_->comm, &r[0]),
                 "all_gather");
    impl_->wait(r, "the other ranks' values");
    return all;
}

std::vector<double> Session::all_gather(double value) const {
    return all_gather(std::vector<double>{value});
}

std::vector<double> Session::all_gather(const std::vector<double>& values) const {
    const int n = static_cast<int>(values.size());
    std::vector<double> all(values.size() * static_cast<std::size_t>(impl_->size));
    std::vector<MPI_Request> r(1);
    impl_->check(MPI_Iallgather(values.data(), n, MPI_DOUBLE, all.data(), n, MPI_DOUBLE,
                                impl_->comm, &r[0]),
                 "all_gather");
    impl_->wait(r, "the other ranks' values");
    return all;
}

std::string Session::broadcast(std::string bytes, int root) const {
    std::uint64_t n = bytes.size();
    std::vector<MPI_Request> r(1);
    impl_->check(MPI_Ibcast(&n, 1, MPI_UINT64_T, root, impl_->comm, &r[0]), "broadcast");
    impl_->wait(r, "a broadcast from rank " + std::to_string(root));
    bytes.resize(n);
    for (std::uint64_t at = 0; at < n;) {  // in pieces: an MPI count is an int
        const int piece = static_cast<int>(std::min<std::uint64_t>(n - at, 1u << 30));
        impl_->check(MPI_Ibcast(bytes.data() + at, piece, MPI_BYTE, root, impl_->comm, &r[0]),
                     "broadcast");
        impl_->wait(r, "a broadcast from rank " + std::to_string(root));
        at += static_cast<std::uint64_t>(piece);
    }
    return bytes;
}

void Session::broadcast(float* data, std::size_t count, int root) const {
    std::vector<MPI_Request> r(1);
    for (std::size_t at = 0; at < count;) {
        const int piece = static_cast<int>(std::min<std::size_t>(count - at, 1u << 28));
        impl_->check(MPI_Ibcast(data + at, piece, MPI_FLOAT, root, impl_->comm, &r[0]),
                     "broadcast");
        impl_->wait(r, "a broadcast from rank " + std::to_string(root));
        at += static_cast<std::size_t>(piece);
    }
}

void Session::abort(const std::string& message, int code) const { impl_->abort(message, code); }
void Session::set_timeout(double seconds) { impl_->timeout = seconds; }
double Session::timeout() const { return impl_->timeout; }
double Session::wait_seconds() const { return impl_->waited; }

}  // namespace tapegrad::distributed
