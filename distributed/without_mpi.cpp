// tapegrad::distributed in a build without MPI: everything compiles and links, and making a Session
// says how to get MPI. Nothing else can be reached without a Session.
#include "distributed.hpp"

namespace tapegrad::distributed {

bool available() { return false; }

struct Session::Impl {};

namespace {
[[noreturn]] void no_mpi() {
    throw std::runtime_error("tapegrad was built without MPI, so it cannot train on several "
                             "processes: " + how_to_get_mpi());
}
}  // namespace

Session::Session(int&, char**&) { no_mpi(); }
Session::~Session() = default;
int Session::rank() const { no_mpi(); }
int Session::size() const { no_mpi(); }
int Session::local_rank() const { no_mpi(); }
int Session::local_size() const { no_mpi(); }
std::size_t Session::default_threads() const { no_mpi(); }
void Session::barrier() const { no_mpi(); }
bool Session::any(bool) const { no_mpi(); }
std::vector<std::uint64_t> Session::all_gather(std::uint64_t) const { no_mpi(); }
std::vector<double> Session::all_gather(double) const { no_mpi(); }
std::vector<double> Session::all_gather(const std::vector<double>&) const { no_mpi(); }
std::string Session::broadcast(std::string, int) const { no_mpi(); }
void Session::broadcast(float*, std::size_t, int) const { no_mpi(); }
void Session::abort(const std::string&, int) const { no_mpi(); }
void Session::set_timeout(double) { no_mpi(); }
double Session::timeout() const { no_mpi(); }
double Session::wait_seconds() const { no_mpi(); }

void broadcast_parameters(const Session&, nn::Module&, int) { no_mpi(); }
std::string local_copy(const Session&, const std::string&, int) { no_mpi(); }
void check_same_state(const Session&, const nn::Module&, const optim::Optimizer*) { no_mpi(); }

struct GradReducer::Pending {};
GradReducer::GradReducer(const Session& session, std::vector<Tensor>, ReducerOptions)
    : session_(session), weight_(0) {
    no_mpi();
}
GradReducer::~GradReducer() = default;
void GradReducer::set_weight(double) { no_mpi(); }
void GradReducer::reduce_zeros() { no_mpi(); }
void GradReducer::ready(std::size_t, Array&) { no_mpi(); }
void GradReducer::finish() { no_mpi(); }
void GradReducer::abandon() { no_mpi(); }
void GradReducer::start_ready_buckets() { no_mpi(); }

}  // namespace tapegrad::distributed
