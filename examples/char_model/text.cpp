#include "text.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace char_model {

using namespace tapegrad;

Alphabet::Alphabet(const std::string& text) : index_(256, -1) {
    for (const char c : text) index_[static_cast<unsigned char>(c)] = 0;
    for (int b = 0; b < 256; ++b)
        if (index_[b] == 0) {
            index_[b] = static_cast<int>(chars_.size());
            chars_.push_back(static_cast<char>(b));
        }
}

std::vector<std::size_t> Alphabet::encode(const std::string& text) const {
    std::vector<std::size_t> out;
    out.reserve(text.size());
    for (const char c : text) {
        const int i = index_[static_cast<unsigned char>(c)];
        if (i < 0)
            throw std::invalid_argument("the character with byte value " +
                                        std::to_string(static_cast<unsigned char>(c)) +
                                        " is not in the training text's alphabet");
        out.push_back(static_cast<std::size_t>(i));
    }
    return out;
}

namespace {

Windows windows_at(const std::vector<std::size_t>& text, const std::vector<std::size_t>& starts,
                   std::size_t length) {
    const std::size_t n = starts.size();
    Array inputs = Array::from_shape({length, n}), targets = Array::from_shape({length * n});
    for (std::size_t t = 0; t < length; ++t)
        for (std::size_t b = 0; b < n; ++b) {
            inputs(t, b) = static_cast<float>(text[starts[b] + t]);
            targets(t * n + b) = static_cast<float>(text[starts[b] + t + 1]);
        }
    return {Tensor(std::move(inputs)), Tensor(std::move(targets))};
}

}  // namespace

Windows random_windows(const std::vector<std::size_t>& text, std::size_t length, std::size_t batch,
                       std::mt19937_64& rng) {
    if (text.size() < length + 2)
        throw std::invalid_argument("the training text has " + std::to_string(text.size()) +
                                    " characters: too few for windows of " +
                                    std::to_string(length) + " (--seq-len)");
    std::uniform_int_distribution<std::size_t> start(0, text.size() - length - 1);
    std::vector<std::size_t> starts(batch);
    for (std::size_t& s : starts) s = start(rng);
    return windows_at(text, starts, length);
}

std::vector<Windows> all_windows(const std::vector<std::size_t>& text, std::size_t length,
                                 std::size_t batch) {
    std::vector<std::size_t> starts;
    for (std::size_t s = 0; s + length + 1 <= text.size(); s += length) starts.push_back(s);
    std::vector<Windows> out;
    for (std::size_t i = 0; i < starts.size(); i += batch) {
        const std::vector<std::size_t> group(starts.begin() + static_cast<long>(i),
                                             starts.begin() + static_cast<long>(std::min(starts.size(), i + batch)));
        out.push_back(windows_at(text, group, length));
    }
    return out;
}

double bigram_bits_per_char(const std::vector<std::size_t>& train,
                            const std::vector<std::size_t>& valid, std::size_t alphabet) {
    std::vector<double> counts(alphabet * alphabet, 0.0), totals(alphabet, 0.0);
    for (std::size_t i = 1; i < train.size(); ++i) {
        counts[train[i - 1] * alphabet + train[i]] += 1.0;
        totals[train[i - 1]] += 1.0;
    }
    double best = INFINITY;
    for (const double k : {1.0, 0.3, 0.1, 0.03, 0.01}) {
        double bits = 0.0;
        for (std::size_t i = 1; i < valid.size(); ++i) {
            const std::size_t prev = valid[i - 1];
            const double p = (counts[prev * alphabet + valid[i]] + k) /
                             (totals[prev] + k * static_cast<double>(alphabet));
            bits -= std::log2(p);
        }
        best = std::min(best, bits / static_cast<double>(valid.size() - 1));
    }
    return best;
}

}  // namespace char_model
