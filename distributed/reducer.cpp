// The gradient reducer, and the checks that every rank trains the same model in step.
#include "mpi_session.hpp"

#include "../data/formats/file.hpp"

#include <algorithm>
#include <climits>
#include <sstream>

namespace tapegrad::distributed {

namespace {

// One line per parameter and buffer: "parameter fc.weight [10, 20]".
std::vector<std::string> layout_of(const nn::Module& module) {
    std::vector<std::string> lines;
    for (const auto& [name, t] : module.named_parameters())
        lines.push_back("parameter " + name + " " + shape_str(t.shape()));
    for (const auto& [name, t] : module.named_buffers())
        lines.push_back("buffer " + name + " " + shape_str(t.shape()));
    return lines;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& line : lines) s += line + "\n";
    return s;
}

std::vector<std::string> split_lines(const std::string& s) {
    std::vector<std::string> lines;
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// How `mine` (rank r's) differs from `theirs` (rank root's); empty when they are the same.
std::string difference(const std::vector<std::string>& mine, int r,
                       const std::vector<std::string>& theirs, int root) {
    const std::string me = "rank " + std::to_string(r), them = "rank " + std::to_string(root);
    for (std::size_t i = 0; i < std::min(mine.size(), theirs.size()); ++i)
        if (mine[i] != theirs[i])
            return me + " has " + mine[i] + " where " + them + " has " + theirs[i];
    if (mine.size() < theirs.size())
        return me + " lacks " + theirs[mine.size()] + " (" + std::to_string(mine.size()) +
               " entries, " + them + " has " + std::to_string(theirs.size()) + ")";
    if (mine.size() > theirs.size())
        return me + " has " + mine[theirs.size()] + ", which " + them + " lacks (" +
               std::to_string(mine.size()) + " entries, " + them + " has " +
               std::to_string(theirs.size()) + ")";
    return "";
}

}  // namespace

std::string local_copy(const Session& session, const std::string& path, int root) {
    if (session.size() == 1) return path;
    std::string bytes;
    if (session.rank() == root) {
        const Bytes b = read_file(path);
        bytes.assign(b.begin(), b.end());
    }
    bytes = session.broadcast(bytes, root);
    if (session.rank() == root) return path;
    const std::string mine = path + ".rank" + std::to_string(session.rank());
    write_file_atomic(mine, bytes, "distributed::local_copy");
    return mine;
}

void broadcast_parameters(const Session& session, nn::Module& module, int root) {
    const std::vector<std::string> mine = layout_of(module);
    const std::vector<std::string> roots = split_lines(session.broadcast(joined(mine), root));
    // Every rank learns every rank's difference, so all throw the same error together.
    const std::string own = difference(mine, session.rank(), roots, root);
    std::string all;
    for (int r = 0; r < session.size(); ++r) {
        const std::string d = session.broadcast(own, r);
        if (!d.empty()) all += (all.empty() ? "" : "; ") + d;
    }
    if (!all.empty())
        throw CollectiveError("broadcast_parameters: the ranks have different models: " + all);
    std::vector<Tensor> tensors;
    for (const auto& [name, t] : module.named_parameters()) tensors.push_back(t);
    for (const auto& [name, t] : module.named_buffers()) tensors.push_back(t);
    std::vector<float> packed;
    for (const Tensor& t : tensors)
        packed.insert(packed.end(), t.value().data(), t.value().data() + t.size());
    session.broadcast(packed.data(), packed.size(), root);
    std::size_t at = 0;
    for (const Tensor& t : tensors) {
        std::copy(packed.begin() + static_cast<std::ptrdiff_t>(at),
                  packed.begin() + static_cast<std::ptrdiff_t>(at + t.size()),
                  t.mutable_value().data());
        at += t.size();
    }
}

void check_same_state(const Session& session, const nn::Module& module,
                      const optim::Optimizer* optimizer) {
    const std::vector<std::uint64_t> hashes = session.all_gather(state_hash(module, optimizer));
    std::string differ;
    for (std::size_t r = 1; r < hashes.size(); ++r)
        if (hashes[r] != hashes[0]) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
    if (!differ.empty())
        throw CollectiveError("ranks diverged: the model" +
                              std::string(optimizer ? " and optimizer state" : "") + " of rank " +
                              differ + " differ from rank 0's; they no longer train in step, "
                              "so the job stops rather than save a checkpoint of one of them");
}

// A bucket in flight: this rank's weighted gradients, and where the sum arrives.
struct GradReducer::Pending {
    std::size_t bucket = 0;
    std::vector<float> send, receive;
    MPI_Request request = MPI_REQUEST_NULL;
};

GradReducer::GradReducer(const Session& session, std::vector<Tensor> params,
                         ReducerOptions options)
    : session_(session), params_(std::move(params)), options_(options),
      weight_(1.0 / session.size()) {
    for (std::size_t k = 0; k < params_.size(); ++k)
        if (!params_[k].defined() || !params_[k].requires_grad())
            throw std::invalid_argument("GradReducer: parameter " + std::to_string(k) +
                                        " does not require a gradient; give only the "
                                        "parameters that train");
    // Buckets from the last parameter to the first: backward completes them in about that order.
    bucket_of_.resize(params_.size());
    std::size_t bytes = 0;
    for (std::size_t k = params_.size(); k-- > 0;) {
        if (buckets_.empty() || bytes >= options_.bucket_bytes) {
            buckets_.emplace_back();
            bytes = 0;
        }
        buckets_.back().push_back(k);
        bucket_of_[k] = buckets_.size() - 1;
        bytes += params_[k].size() * sizeof(float);
        if (bytes / sizeof(float) > static_cast<std::size_t>(INT_MAX) / session.size())
            throw std::invalid_argument("GradReducer: parameter " + std::to_string(k) +
                                        " is too large for one MPI message");
    }
    grads_.assign(params_.size(), nullptr);
    missing_.resize(buckets_.size());
    for (std::size_t b = 0; b < buckets_.size(); ++b) missing_[b] = buckets_[b].size();
}

GradReducer::~GradReducer() = default;

void GradReducer::set_weight(double weight) {
    if (!(weight >= 0.0 && weight <= 1.0))
        throw std::invalid_argument("GradReducer::set_weight: " + std::to_string(weight) +
                                    " is not a share of the batch (0 .. 1)");
    weight_ = weight;
}

void GradReducer::ready(std::size_t k, Array& dx) {
    grads_[k] = &dx;
    --missing_[bucket_of_[k]];
    start_ready_buckets();
    // Let MPI move the buckets already started along (most MPI libraries progress only inside
    // MPI calls).
    for (auto& p : pending_) {
        int done = 0;
        if (p->request != MPI_REQUEST_NULL) MPI_Test(&p->request, &done, MPI_STATUS_IGNORE);
    }
}

void GradReducer::start_ready_buckets() {
    Session::Impl& s = session_.impl();
    const auto w = static_cast<float>(weight_);
    while (next_bucket_ < buckets_.size() && missing_[next_bucket_] == 0) {
        auto p = std::make_unique<Pending>();
        p->bucket = next_bucket_++;
        std::size_t count = 0;
        for (std::size_t k : buckets_[p->bucket]) count += grads_[k]->size();
        p->send.resize(count);
        float* out = p->send.data();
        for (std::size_t k : buckets_[p->bucket]) {
            const float* in = grads_[k]->data();
            for (std::size_t i = 0; i < grads_[k]->size(); ++i) out[i] = w * in[i];
            out += grads_[k]->size();
        }
        const int n = static_cast<int>(p->send.size());
        if (options_.sum_order == SumOrder::ordered) {
            p->receive.resize(p->send.size() * static_cast<std::size_t>(s.size));
            s.check(MPI_Iallgather(p->send.data(), n, MPI_FLOAT, p->receive.data(), n,
                                   MPI_FLOAT, s.comm, &p->request),
                    "the gradient all-gather");
        } else {
            p->receive.resize(p->send.size());
            s.check(MPI_Iallreduce(p->send.data(), p->receive.data(), n, MPI_FLOAT, MPI_SUM,
                                   s.comm, &p->request),
                    "the gradient all-reduce");
        }
        pending_.push_back(std::move(p));
    }
}

void GradReducer::finish() {
    Session::Impl& s = session_.impl();
    start_ready_buckets();
    if (next_bucket_ != buckets_.size())
        throw std::logic_error("GradReducer: the sweep ended before every parameter's gradient "
                               "was reported");
    std::vector<MPI_Request> requests;
    for (auto& p : pending_) requests.push_back(p->request);
    const double before = s.waited;
    s.wait(requests, "the other ranks' gradients");
    wait_seconds_ += s.waited - before;
    const std::size_t ranks = static_cast<std::size_t>(s.size);
    for (auto& p : pending_) {
        const std::size_t n = p->send.size();
        std::size_t at = 0;
        for (std::size_t k : buckets_[p->bucket]) {
            float* out = grads_[k]->data();
            for (std::size_t i = 0; i < grads_[k]->size(); ++i, ++at) {
                if (options_.sum_order == SumOrder::allreduce) {
                    out[i] = p->receive[at];
                    continue;
                }
                float sum = p->receive[at];  // rank 0's, then 1's, ... in that order
                for (std::size_t r = 1; r < ranks; ++r) sum += p->receive[r * n + at];
                out[i] = sum;
            }
        }
    }
    reset();
}

void GradReducer::abandon() {
    std::vector<MPI_Request> requests;
    for (auto& p : pending_) requests.push_back(p->request);
    session_.impl().wait(requests, "the other ranks' gradients (after a failed backward)");
    reset();
}

void GradReducer::reset() {
    pending_.clear();
    std::fill(grads_.begin(), grads_.end(), nullptr);
    for (std::size_t b = 0; b < buckets_.size(); ++b) missing_[b] = buckets_[b].size();
    next_bucket_ = 0;
}

void GradReducer::reduce_zeros() {
    std::vector<Array> zeros;
    for (const Tensor& p : params_) zeros.emplace_back(xt::zeros<float>(p.shape()));
    for (std::size_t k = params_.size(); k-- > 0;) ready(k, zeros[k]);
    finish();
    for (std::size_t k = 0; k < params_.size(); ++k) params_[k].accumulate_grad(std::move(zeros[k]));
}

}  // namespace tapegrad::distributed
