// Random numbers from one process-wide generator, reproducible everywhere.
//
// manual_seed(s) resets the generator, as torch.manual_seed does; layers draw their parameters
// from it when they are constructed (nn/init.hpp), dropout its masks, rand and randn their
// values, so the same seed and the same order of calls give the same numbers:
//
//   - the generator is std::mt19937_64, whose output sequence the C++ standard fixes;
//   - its 64-bit draws become floats by our own mapping, not std::uniform_real_distribution
//     (whose algorithm each standard library picks): the top 24 bits give u = k / 2^24 in
//     [0, 1), exactly representable as a float, and a uniform value is fma(hi - lo, u, lo), a
//     single correctly rounded operation (written as fma so no compiler can fuse or split it).
//     Uniform values are therefore identical on every platform and compiler;
//   - normal values use Box-Muller on two such draws, z = sqrt(-2 ln u1) cos(2 pi u2) in double:
//     identical wherever the C library's log and cos are (the same platform), not bit for bit
//     across all of them.
//
// Until the first manual_seed the generator starts from a fixed seed, so an unseeded program is
// reproducible too. Drawing is thread-safe; each fill takes its numbers in one uninterrupted run.
// The numbers differ from torch's (its generator is another): a seed reproduces tapegrad runs.
#pragma once

#include <cstdint>
#include <string>

#include "../core/tensor.hpp"

namespace tapegrad {

void manual_seed(std::uint64_t seed);

// The generator's whole state as text, and back (as torch.get_rng_state / set_rng_state): a
// checkpoint keeps it so that dropout draws the same masks after a resume.
std::string generator_state();
void set_generator_state(const std::string& state);

// The mapping above, for one 64-bit draw: a float in [0, 1).
float unit_float(std::uint64_t bits);

// Arrays of the given shape, filled in row-major order: U(lo, hi) and N(mean, std^2).
Array uniform_array(const Shape& shape, float lo, float hi);
Array normal_array(const Shape& shape, float mean, float std);

// Dropout's mask: `keep` where element i's uniform value u_i = k_i / 2^24 is at least p, else 0.
// The mask takes one 64-bit draw from the generator, a key; k_i is the top 24 bits of the
// (i + 1)-th output of SplitMix64 started from that key (Steele, Lea and Flood 2014; Java's
// SplittableRandom), which is a function of the key and i alone, so threads fill parts of the
// mask at once and every thread count gives the same mask. The decision is made on the integer:
// u_i >= p exactly when k_i >= ceil(p 2^24).
Array keep_mask(const Shape& shape, float p, float keep);

// Leaves of random values (torch.rand, torch.randn): U(0, 1) and N(0, 1).
Tensor rand(const Shape& shape, bool requires_grad = false);
Tensor randn(const Shape& shape, bool requires_grad = false);

}  // namespace tapegrad
