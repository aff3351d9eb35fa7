// The text side of the character model: the alphabet, batches of windows, and the bigram
// baseline the models are measured against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace char_model {

// The distinct bytes of a text, sorted; characters are numbered by their place in it.
class Alphabet {
  public:
    explicit Alphabet(const std::string& text);
    std::size_t size() const { return chars_.size(); }
    std::vector<std::size_t> encode(const std::string& text) const;  // throws on an unknown byte
    char decode(std::size_t index) const { return chars_[index]; }

  private:
    std::string chars_;
    std::vector<int> index_;  // by byte value; -1 for bytes not in the text
};

// Windows of `length` characters as [length, batch] index tensors (float, as Embedding takes
// them), with the next character of each position as the target [length * batch].
struct Windows {
    tapegrad::Tensor inputs;
    tapegrad::Tensor targets;
};

// `batch` windows starting at random places of `text`.
Windows random_windows(const std::vector<std::size_t>& text, std::size_t length, std::size_t batch,
                       std::mt19937_64& rng);
// The windows of `text` one after another (the rest shorter than `length` left out), in groups
// of at most `batch`: what the validation bits per character are measured on.
std::vector<Windows> all_windows(const std::vector<std::size_t>& text, std::size_t length,
                                 std::size_t batch);

// A bigram model: p(next | previous) from the counts in `train` plus k for every pair (add-k
// smoothing). Returns the bits per character it gives `valid`, for the best k of a few (chosen
// on `valid` itself: the comparison favours the baseline).
double bigram_bits_per_char(const std::vector<std::size_t>& train,
                            const std::vector<std::size_t>& valid, std::size_t alphabet);

}  // namespace char_model
