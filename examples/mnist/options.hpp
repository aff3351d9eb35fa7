// The mnist example's command-line options (main.cpp parses them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mnist {

struct Options {
    std::string model = "cnn";
    std::string loss = "cross_entropy";
    std::size_t epochs = 8;
    std::size_t batch_size = 64;
    float lr = 0.05f;
    float momentum = 0.9f;
    std::string optimizer = "sgd";
    std::string schedule = "cosine";
    std::size_t warmup = 0;       // epochs of linear warm-up before the schedule
    float clip_grad_norm = 0.0f;  // 0: no clipping
    std::uint64_t seed = 1;
    int threads = 0;
    std::string data;  // empty: examples::find_dataset("mnist")
    std::string save, load, predict, metrics, plot;
    std::string audit;            // --audit FILE.csv: the gradient audit (nn/audit.hpp)
    std::size_t audit_every = 50;  // steps between two audits
    bool compare_losses = false;
    std::size_t limit = 0;
    bool verbose = false;
    std::string checkpoint, resume;
    std::size_t stop_after = 0;  // 0: run all the epochs
    bool keep_going_on_nan = false;
    bool distributed = false;  // data-parallel over the processes of an MPI job (tapegrad::distributed)
};

}  // namespace mnist
