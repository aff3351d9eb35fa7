#include "dataloader.hpp"

#include <algorithm>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

namespace tapegrad {

TensorDataset::TensorDataset(Array inputs, Array targets)
    : inputs_(std::move(inputs)), targets_(std::move(targets)) {
    if (inputs_.dimension() < 1 || targets_.dimension() < 1)
        throw std::invalid_argument("TensorDataset: inputs " + shape_str(inputs_.shape()) +
                                    " and targets " + shape_str(targets_.shape()) +
                                    " both need a first dimension, the example count");
    if (inputs_.shape()[0] != targets_.shape()[0])
        throw std::invalid_argument("TensorDataset: inputs " + shape_str(inputs_.shape()) +
                                    " and targets " + shape_str(targets_.shape()) +
                                    " have different example counts");
}

std::size_t TensorDataset::size() const { return inputs_.shape()[0]; }

Batch TensorDataset::get_batch(const std::vector<std::size_t>& indices) const {
    return {gather_rows(inputs_, indices), gather_rows(targets_, indices)};
}

Array gather_rows(const Array& a, const std::vector<std::size_t>& indices) {
    const std::size_t n = a.shape()[0];
    const std::size_t row = n ? a.size() / n : 0;
    Shape shape(a.shape().begin(), a.shape().end());
    shape[0] = indices.size();
    Array out = Array::from_shape(shape);
    // xarray is row-major and contiguous, so a row is `row` consecutive floats.
    for (std::size_t i = 0; i < indices.size(); ++i) {
        if (indices[i] >= n)
            throw std::out_of_range("gather_rows: index " + std::to_string(indices[i]) +
                                    " is out of range for " + std::to_string(n) + " rows");
        std::copy_n(a.data() + indices[i] * row, row, out.data() + i * row);
    }
    return out;
}

std::vector<std::size_t> shuffled_indices(std::size_t n, std::uint64_t seed,
                                          std::uint64_t epoch) {
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    std::seed_seq seq{std::uint32_t(seed), std::uint32_t(seed >> 32), std::uint32_t(epoch),
                      std::uint32_t(epoch >> 32)};
    std::mt19937_64 gen(seq);
    // Fisher-Yates: position i swaps with a uniform j in [0, i]. A draw is accepted only below
    // the largest multiple of (i + 1) that fits, so every j is exactly equally likely.
    for (std::size_t i = n; i-- > 1;) {
        const std::uint64_t range = std::uint64_t(i) + 1;
        const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                                    std::numeric_limits<std::uint64_t>::max() % range;
        std::uint64_t draw;
        do draw = gen(); while (draw >= limit);
        std::swap(order[i], order[draw % range]);
    }
    return order;
}

DataLoader::DataLoader(const Dataset& dataset, std::size_t batch_size, bool shuffle,
                       std::uint64_t seed, bool drop_last)
    : dataset_(&dataset), batch_size_(batch_size), shuffle_(shuffle), seed_(seed),
      drop_last_(drop_last) {
    if (batch_size == 0)
        throw std::invalid_argument("DataLoader: batch size is 0; it must be at least 1");
}

std::size_t DataLoader::num_batches() const {
    const std::size_t n = dataset_->size();
    return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

std::vector<std::size_t> DataLoader::order(std::uint64_t epoch) const {
    if (shuffle_) return shuffled_indices(dataset_->size(), seed_, epoch);
    std::vector<std::size_t> order(dataset_->size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    return order;
}

DataLoader::Epoch DataLoader::epoch(std::uint64_t epoch) const {
    return Epoch(*this, order(epoch));
}

DataLoader::Epoch::Epoch(const DataLoader& loader, std::vector<std::size_t> order)
    : loader_(&loader), order_(std::move(order)), num_batches_(loader.num_batches()) {}

std::vector<std::size_t> DataLoader::Epoch::batch_indices(std::size_t b) const {
    if (b >= num_batches_)
        throw std::out_of_range("DataLoader: batch " + std::to_string(b) +
                                " is out of range; an epoch has " +
                                std::to_string(num_batches_) + " batches");
    const std::size_t start = b * loader_->batch_size_;
    const std::size_t stop = std::min(start + loader_->batch_size_, order_.size());
    return std::vector<std::size_t>(order_.begin() + static_cast<std::ptrdiff_t>(start),
                                    order_.begin() + static_cast<std::ptrdiff_t>(stop));
}

Batch DataLoader::Epoch::batch(std::size_t b) const {
    return loader_->dataset_->get_batch(batch_indices(b));
}

Shard shard_of(std::size_t count, std::size_t part, std::size_t parts) {
    if (parts == 0 || part >= parts)
        throw std::invalid_argument("shard_of: part " + std::to_string(part) + " of " +
                                    std::to_string(parts) + " parts does not exist");
    const std::size_t base = count / parts, longer = count % parts;
    Shard s;
    s.begin = part * base + std::min(part, longer);
    s.end = s.begin + base + (part < longer ? 1 : 0);
    s.weight = count == 0 ? 0.0 : static_cast<double>(s.size()) / static_cast<double>(count);
    return s;
}

Batch DataLoader::Epoch::shard(std::size_t b, std::size_t part, std::size_t parts) const {
    const std::vector<std::size_t> all = batch_indices(b);
    const Shard s = shard_of(all.size(), part, parts);
    return loader_->dataset_->get_batch(
        std::vector<std::size_t>(all.begin() + static_cast<std::ptrdiff_t>(s.begin),
                                 all.begin() + static_cast<std::ptrdiff_t>(s.end)));
}

}  // namespace tapegrad
