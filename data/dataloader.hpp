// Datasets and the loader that cuts them into batches.
//
// A Dataset answers two questions: how many examples it has, and the batch made of a list of
// example indices. The DataLoader decides which indices go into which batch:
//
//   TensorDataset data(x, y);                       // x [N, ...], y [N] or [N, k]
//   DataLoader loader(data, 64, /*shuffle=*/true, /*seed=*/42);
//   for (std::size_t epoch = 0; epoch < 10; ++epoch)
//       for (const Batch& batch : loader.epoch(epoch)) { ... batch.inputs, batch.targets ... }
//
// Shuffled order is a pure function of (seed, epoch), the same on every platform and standard
// library: a std::mt19937_64 seeded through std::seed_seq with the four 32-bit words
// {seed low, seed high, epoch low, epoch high} (both fully specified by the C++ standard) drives
// our own Fisher-Yates shuffle, drawing each position by rejection sampling (no modulo bias, and
// no std::uniform_int_distribution, whose algorithm differs between standard libraries).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

#include "../core/tensor.hpp"

namespace tapegrad {

struct Batch {
    Array inputs;   // [B, ...]
    Array targets;  // [B] or [B, k]
};

class Dataset {
  public:
    virtual ~Dataset() = default;
    virtual std::size_t size() const = 0;
    // The examples at `indices`, in that order. An index >= size() throws std::out_of_range.
    virtual Batch get_batch(const std::vector<std::size_t>& indices) const = 0;
};

// In-memory examples: row i of `inputs` goes with row i of `targets`.
class TensorDataset : public Dataset {
  public:
    // inputs [N, ...] and targets [N] or [N, k]; both need the same N.
    TensorDataset(Array inputs, Array targets);
    std::size_t size() const override;
    Batch get_batch(const std::vector<std::size_t>& indices) const override;

    const Array& inputs() const { return inputs_; }
    const Array& targets() const { return targets_; }

  private:
    Array inputs_;
    Array targets_;
};

// The first `n` examples of another dataset (all of them when n is 0 or too large), e.g. for a
// quick run on part of MNIST. It refers to `base`, which must outlive it.
class Prefix : public Dataset {
  public:
    Prefix(const Dataset& base, std::size_t n)
        : base_(base), n_(n == 0 ? base.size() : std::min(n, base.size())) {}
    std::size_t size() const override { return n_; }
    Batch get_batch(const std::vector<std::size_t>& indices) const override {
        return base_.get_batch(indices);
    }

  private:
    const Dataset& base_;
    std::size_t n_;
};

// Rows `indices` of `a` (shape [N, ...]) as an array [indices.size(), ...].
Array gather_rows(const Array& a, const std::vector<std::size_t>& indices);

// The permutation of 0..n-1 for (seed, epoch), as described at the top of this file.
std::vector<std::size_t> shuffled_indices(std::size_t n, std::uint64_t seed, std::uint64_t epoch);

// One part of a batch of `count` examples split among `parts` processes (distributed/distributed.hpp):
// examples [begin, end), contiguous, in part order, the first count % parts parts one example
// longer (so a part may be empty when count < parts). `weight` is its share of the batch,
// size() / count (0 for an empty batch): the weighted sum of the parts' mean gradients is the
// mean gradient of the whole batch.
struct Shard {
    std::size_t begin = 0, end = 0;
    double weight = 0;
    std::size_t size() const { return end - begin; }
};
Shard shard_of(std::size_t count, std::size_t part, std::size_t parts);

class DataLoader {
  public:
    // The dataset must outlive the loader. batch_size 0 throws std::invalid_argument. Without
    // shuffle, every epoch visits 0..N-1 in order. With drop_last, a last batch smaller than
    // batch_size is skipped.
    DataLoader(const Dataset& dataset, std::size_t batch_size, bool shuffle = false,
               std::uint64_t seed = 0, bool drop_last = false);

    std::size_t num_batches() const;
    std::size_t batch_size() const { return batch_size_; }
    const Dataset& dataset() const { return *dataset_; }

    // The order in which epoch `epoch` visits the examples (all N of them, even with drop_last).
    std::vector<std::size_t> order(std::uint64_t epoch) const;

    class Epoch;
    // The batches of one epoch, to iterate with a range-for.
    Epoch epoch(std::uint64_t epoch) const;

  private:
    const Dataset* dataset_;
    std::size_t batch_size_;
    bool shuffle_;
    std::uint64_t seed_;
    bool drop_last_;
};

class DataLoader::Epoch {
  public:
    Epoch(const DataLoader& loader, std::vector<std::size_t> order);

    std::size_t size() const { return num_batches_; }
    // The example indices of batch b (b < size()).
    std::vector<std::size_t> batch_indices(std::size_t b) const;
    Batch batch(std::size_t b) const;
    // Part `part` of `parts` of batch b (shard_of above): what one of several processes trains
    // on. An empty part has inputs and targets with 0 rows.
    Batch shard(std::size_t b, std::size_t part, std::size_t parts) const;

    class iterator {
      public:
        using iterator_category = std::input_iterator_tag;
        using value_type = Batch;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = Batch;

        iterator(const Epoch* epoch, std::size_t b) : epoch_(epoch), b_(b) {}
        Batch operator*() const { return epoch_->batch(b_); }
        iterator& operator++() { ++b_; return *this; }
        bool operator==(const iterator& o) const { return b_ == o.b_; }
        bool operator!=(const iterator& o) const { return b_ != o.b_; }

      private:
        const Epoch* epoch_;
        std::size_t b_;
    };
    iterator begin() const { return iterator(this, 0); }
    iterator end() const { return iterator(this, num_batches_); }

  private:
    const DataLoader* loader_;
    std::vector<std::size_t> order_;
    std::size_t num_batches_;
};

}  // namespace tapegrad
