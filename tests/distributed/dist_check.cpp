// Checks of tapegrad::distributed, run by CTest under mpirun with 1, 2 or 3 ranks (tests/CMakeLists.txt):
//
//   dist_check equal [--threads-differ]   a small CNN, 6 momentum-SGD steps on sharded global
//                                         batches; parameters equal a one-process run to 1e-6
//                                         and are the same bits on every rank
//   dist_check unused                     a head that some ranks and steps do not use
//   dist_check mismatch                   rank 1 has another model: every rank gets the error
//   dist_check throw                      rank 1 throws mid-training: the job ends (non-zero)
//   dist_check hang                       rank 1 stops answering: rank 0's wait times out
//   dist_check resume PHASE FILE          stop after 3 steps, resume at another rank count
//
// Each rank prints "rank R: ok ..." when its checks pass and exits 0; a failed check prints what
// differs and exits 1.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include <tapegrad/distributed/distributed.hpp>
#include <tapegrad/tapegrad.hpp>

using namespace tapegrad;

namespace {

constexpr std::size_t steps = 6;
// The global batch of each step: 7 examples (3 ranks get 3, 2 and 2), but 2 at step 2, when the
// third of 3 ranks has none.
std::size_t batch_of(std::size_t step) { return step == 2 ? 2 : 7; }

int failures = 0;
void expect(bool ok, const std::string& what, const distributed::Session& s) {
    if (ok) return;
    std::cerr << "rank " << s.rank() << ": FAILED: " << what << std::endl;
    ++failures;
}

std::shared_ptr<nn::Sequential> make_cnn() {
    manual_seed(7);
    return std::make_shared<nn::Sequential>(
        nn::Sequential{nn::Conv2D(1, 3, 3), nn::ReLU(), nn::MaxPool2D(2), nn::Flatten(),
                       nn::Linear(3 * 3 * 3, 4)});
}

// Global batch `step`: 8x8 images and classes, the same on every rank.
Batch global_batch(std::size_t step, std::size_t count) {
    manual_seed(1000 + step);
    Batch b;
    b.inputs = randn({count, 1, 8, 8}).value();
    b.targets = xt::floor(rand({count}).value() * 4.0f);
    return b;
}

Batch rows(const Batch& b, std::size_t begin, std::size_t end) {
    std::vector<std::size_t> idx;
    for (std::size_t i = begin; i < end; ++i) idx.push_back(i);
    return Batch{gather_rows(b.inputs, idx), gather_rows(b.targets, idx)};
}

Tensor loss_of(nn::Module& model, const Batch& b) {
    return cross_entropy(model(Tensor(b.inputs)), Tensor(b.targets));
}

// Steps [first, last) of training `model` on one process: the reference.
void train_alone(nn::Module& model, optim::SGD& sgd, std::size_t first, std::size_t last) {
    for (std::size_t step = first; step < last; ++step) {
        sgd.zero_grad();
        loss_of(model, global_batch(step, batch_of(step))).backward();
        sgd.step();
    }
}

// The same steps on every rank, each on its shard.
void train_sharded(const distributed::Session& s, nn::Module& model, optim::SGD& sgd,
                   distributed::GradReducer& reducer, std::size_t first, std::size_t last) {
    for (std::size_t step = first; step < last; ++step) {
        const Batch all = global_batch(step, batch_of(step));
        const Shard shard = shard_of(batch_of(step), static_cast<std::size_t>(s.rank()),
                                     static_cast<std::size_t>(s.size()));
        reducer.set_weight(shard.weight);
        sgd.zero_grad();
        if (shard.size() > 0) loss_of(model, rows(all, shard.begin, shard.end)).backward();
        else reducer.reduce_zeros();
        sgd.step();
    }
}

double max_difference(const nn::Module& a, const nn::Module& b) {
    double worst = 0;
    const auto pa = a.parameters(), pb = b.parameters();
    for (std::size_t i = 0; i < pa.size(); ++i)
        worst = std::max(worst, static_cast<double>(xt::amax(xt::abs(pa[i].value() - pb[i].value()))()));
    return worst;
}

void check_same_bits(const distributed::Session& s, const nn::Module& model, const char* what) {
    const auto hashes = s.all_gather(distributed::state_hash(model));
    for (std::size_t r = 1; r < hashes.size(); ++r)
        expect(hashes[r] == hashes[0], std::string(what) + ": rank " + std::to_string(r) +
                                           "'s parameters differ from rank 0's in some bit", s);
}

int equal(distributed::Session& s, bool threads_differ) {
    if (threads_differ) set_num_threads(1 + static_cast<std::size_t>(s.rank()) % 2);
    auto reference = make_cnn();
    optim::SGD reference_sgd(reference->parameters(), optim::SGDOptions(0.1).momentum(0.9));
    train_alone(*reference, reference_sgd, 0, steps);  // before the reducer watches the tape

    auto model = make_cnn();
    if (s.rank() != 0) {  // the other ranks start elsewhere ...
        manual_seed(100 + static_cast<std::uint64_t>(s.rank()));
        for (Tensor& p : model->parameters()) p.mutable_value() = randn(p.shape()).value();
    }
    distributed::broadcast_parameters(s, *model);  // ... until rank 0's weights arrive
    expect(max_difference(*model, *make_cnn()) == 0, "broadcast_parameters gave rank 0's", s);
    optim::SGD sgd(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
    // A bucket per parameter: four per step, the first started while backward still runs.
    distributed::GradReducer reducer(s, model->parameters(), distributed::ReducerOptions{1});
    expect(reducer.buckets().size() == 4, "a bucket per parameter", s);
    train_sharded(s, *model, sgd, reducer, 0, steps);

    const double diff = max_difference(*model, *reference);
    expect(diff <= 1e-6, "parameters differ from the one-process run by " + std::to_string(diff), s);
    expect(max_difference(*model, *make_cnn()) > 1e-3, "training moved the parameters", s);
    check_same_bits(s, *model, "after training");
    std::cout << "rank " << s.rank() << ": ok, " << s.size() << " ranks, " << num_threads()
              << " threads, largest difference from one process " << diff << std::endl;
    return 0;
}

// Two heads; head b is used only by odd ranks, and by no rank at even steps.
int unused(distributed::Session& s) {
    manual_seed(3);
    nn::Linear trunk(4, 4), head_a(4, 2), head_b(4, 2);
    std::vector<Tensor> params = trunk.parameters();
    for (const auto& h : {head_a.parameters(), head_b.parameters()})
        params.insert(params.end(), h.begin(), h.end());
    optim::SGD sgd(params, 0.1f);
    distributed::GradReducer reducer(s, params, distributed::ReducerOptions{16});
    for (std::size_t step = 0; step < 4; ++step) {
        manual_seed(50 + step * 10 + static_cast<std::size_t>(s.rank()));
        const Tensor h = relu(trunk(randn({3, 4})));
        Tensor loss = sum(head_a(h));
        if (s.rank() % 2 == 1 && step % 2 == 1) loss = loss + sum(head_b(h) * head_b(h));
        sgd.zero_grad();
        loss.backward();
        sgd.step();
    }
    const auto hashes = s.all_gather(distributed::state_hash(head_b) ^ distributed::state_hash(trunk));
    for (std::size_t r = 1; r < hashes.size(); ++r)
        expect(hashes[r] == hashes[0], "rank " + std::to_string(r) + " differs after unused heads", s);
    std::cout << "rank " << s.rank() << ": ok, unused and rank-dependent branches finished"
              << std::endl;
    return 0;
}

int mismatch(distributed::Session& s) {
    nn::Sequential model{nn::Linear(4, s.rank() == 1 ? 3 : 5), nn::ReLU()};
    try {
        distributed::broadcast_parameters(s, model);
    } catch (const distributed::CollectiveError& e) {
        const std::string m = e.what();
        expect(m.find("rank 1 has parameter 0.weight [3, 4] where rank 0 has parameter "
                      "0.weight [5, 4]") != std::string::npos,
               "the error names the difference: " + m, s);
        std::cout << "rank " << s.rank() << ": ok, " << m << std::endl;
        return 0;
    }
    expect(false, "different models were not refused", s);
    return 0;
}

int fail_on_rank_1(distributed::Session& s) {
    auto model = make_cnn();
    optim::SGD sgd(model->parameters(), 0.1f);
    distributed::GradReducer reducer(s, model->parameters());
    for (std::size_t step = 0; step < 1000; ++step) {
        if (s.rank() == 1 && step == 2) throw std::runtime_error("boom on purpose at step 2");
        sgd.zero_grad();
        loss_of(*model, global_batch(step % 3, 2)).backward();
        sgd.step();
    }
    return 0;
}

int hang_on_rank_1(distributed::Session& s) {
    s.set_timeout(3);
    auto model = make_cnn();
    optim::SGD sgd(model->parameters(), 0.1f);
    distributed::GradReducer reducer(s, model->parameters());
    for (std::size_t step = 0; step < 4; ++step) {
        if (s.rank() == 1 && step == 2) std::this_thread::sleep_for(std::chrono::seconds(60));
        sgd.zero_grad();
        loss_of(*model, global_batch(step, 2)).backward();
        sgd.step();
    }
    return 0;
}

// Phase "first": steps 0..2 on this many ranks, rank 0 saves FILE. Phase "second": loads FILE
// (rank 0 reads it, every rank gets its bytes), steps 3..5, compares with one process.
int resume(distributed::Session& s, const std::string& phase, const std::string& file) {
    auto model = make_cnn();
    optim::SGD sgd(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
    if (phase == "second") {
        const std::string mine = distributed::local_copy(s, file);  // rank 0 reads, every rank loads
        optim::load_checkpoint(mine, *model, sgd);
        if (mine != file) std::remove(mine.c_str());
    }
    distributed::check_same_state(s, *model, &sgd);
    {
        distributed::GradReducer reducer(s, model->parameters(), distributed::ReducerOptions{100});
        train_sharded(s, *model, sgd, reducer, phase == "first" ? 0 : 3, phase == "first" ? 3 : 6);
    }
    distributed::check_same_state(s, *model, &sgd);
    if (phase == "first") {
        if (s.rank() == 0) optim::save_checkpoint(file, *model, sgd);
        s.barrier();
        std::cout << "rank " << s.rank() << ": ok, saved after 3 steps on " << s.size() << " ranks"
                  << std::endl;
        return 0;
    }
    auto reference = make_cnn();
    optim::SGD reference_sgd(reference->parameters(), optim::SGDOptions(0.1).momentum(0.9));
    train_alone(*reference, reference_sgd, 0, steps);
    const double diff = max_difference(*model, *reference);
    expect(diff <= 1e-6, "resumed run differs from the uninterrupted one by " + std::to_string(diff), s);
    std::cout << "rank " << s.rank() << ": ok, resumed on " << s.size()
              << " ranks, largest difference " << diff << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    distributed::Session session(argc, argv);
    const std::string what = argc > 1 ? argv[1] : "";
    try {
        int code = 2;
        if (what == "equal") code = equal(session, argc > 2 && std::string(argv[2]) == "--threads-differ");
        else if (what == "unused") code = unused(session);
        else if (what == "mismatch") code = mismatch(session);
        else if (what == "throw") code = fail_on_rank_1(session);
        else if (what == "hang") code = hang_on_rank_1(session);
        else if (what == "resume" && argc > 3) code = resume(session, argv[2], argv[3]);
        else std::cerr << "dist_check: unknown check \"" << what << "\"\n";
        return failures ? 1 : code;
    } catch (const distributed::CollectiveError& e) {
        std::cerr << "rank " << session.rank() << ": " << e.what() << std::endl;
        return 1;
    } catch (const std::exception& e) {
        session.abort(e.what());  // one rank's error ends the whole job
    }
}
