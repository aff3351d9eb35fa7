// Writes a small, learnable stand-in for MNIST (tests never download): digit d is a bright bar on
// row 3 + 2d with a little noise, so a few epochs of any model reach high accuracy.
//   make_digits DIR TRAIN_COUNT TEST_COUNT     (the test files are gzip-compressed)
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

#include <tapegrad/tapegrad.hpp>

using namespace tapegrad;

static void write_split(const std::string& dir, const std::string& prefix, std::size_t n,
                        Compression compression, std::uint32_t seed) {
    std::mt19937 gen(seed);
    Bytes images(n * 28 * 28), labels(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t digit = i % 10;
        labels[i] = static_cast<std::uint8_t>(digit);
        for (std::size_t p = 0; p < 28 * 28; ++p) images[i * 784 + p] = gen() % 40;
        const std::size_t row = 3 + 2 * digit, start = 4 + gen() % 6;
        for (std::size_t c = start; c < start + 14; ++c) images[i * 784 + row * 28 + c] = 200 + gen() % 56;
    }
    const std::string ext = compression == Compression::gzip ? ".gz" : "";
    write_idx(dir + "/" + prefix + "-images-idx3-ubyte" + ext, {n, 28, 28}, images, compression);
    write_idx(dir + "/" + prefix + "-labels-idx1-ubyte" + ext, {n}, labels, compression);
}

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: make_digits DIR TRAIN_COUNT TEST_COUNT\n";
        return 2;
    }
    write_split(argv[1], "train", std::strtoul(argv[2], nullptr, 10), Compression::none, 1);
    write_split(argv[1], "t10k", std::strtoul(argv[3], nullptr, 10), Compression::gzip, 2);
    return 0;
}
