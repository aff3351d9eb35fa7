#include "mnist.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "../backend/parallel.hpp"
#include "formats/idx.hpp"

namespace tapegrad {

namespace {

// `dir/name` if it exists, else `dir/name.gz`, else an error naming the folder and both names.
std::string find_file(const std::string& dir, const std::string& name, const char* what) {
    namespace fs = std::filesystem;
    for (const std::string& candidate : {name, name + ".gz"}) {
        fs::path path = fs::path(dir) / candidate;
        std::error_code ec;
        if (fs::is_regular_file(path, ec)) return path.string();
    }
    std::string why;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) why = " (the folder does not exist)";
    throw DataError("MNIST: no " + std::string(what) + " in " + dir + ": looked for " + name +
                    " and " + name + ".gz" + why +
                    "; scripts/fetch_data.sh downloads them into datasets/mnist");
}

}  // namespace

MnistSplit mnist_split(const std::string& name) {
    if (name == "train") return MnistSplit::train;
    if (name == "test") return MnistSplit::test;
    throw DataError("MNIST: unknown split \"" + name + "\"; use \"train\" or \"test\"");
}

MNIST::MNIST(const std::string& dir, const std::string& split, MnistLayout layout)
    : MNIST(dir, mnist_split(split), layout) {}

MNIST::MNIST(const std::string& dir, MnistSplit split, MnistLayout layout) : layout_(layout) {
    const std::string prefix = split == MnistSplit::train ? "train" : "t10k";
    const char* split_name = split == MnistSplit::train ? "training" : "test";
    images_path_ = find_file(dir, prefix + "-images-idx3-ubyte",
                             split == MnistSplit::train ? "training images" : "test images");
    labels_path_ = find_file(dir, prefix + "-labels-idx1-ubyte",
                             split == MnistSplit::train ? "training labels" : "test labels");

    IdxFile images = read_idx(images_path_);
    if (images.dims.size() != 3)
        throw DataError(images_path_ + ": images have dims " + dims_str(images.dims) +
                        ", expected 3 (count x rows x cols)");
    IdxFile labels = read_idx(labels_path_);
    if (labels.dims.size() != 1)
        throw DataError(labels_path_ + ": labels have dims " + dims_str(labels.dims) +
                        ", expected 1 (count)");
    if (images.dims[0] != labels.dims[0])
        throw DataError("MNIST " + std::string(split_name) + " set: " + images_path_ + " has " +
                        std::to_string(images.dims[0]) + " images but " + labels_path_ +
                        " has " + std::to_string(labels.dims[0]) + " labels");
    for (std::size_t i = 0; i < labels.bytes.size(); ++i)
        if (labels.bytes[i] >= 10)
            throw DataError(labels_path_ + ": label " + std::to_string(i) + " is " +
                            std::to_string(labels.bytes[i]) + "; digit labels are 0 to 9");
    rows_ = images.dims[1];
    cols_ = images.dims[2];
    images_ = std::move(images.bytes);
    labels_ = std::move(labels.bytes);
}

int MNIST::label(std::size_t i) const {
    if (i >= size())
        throw std::out_of_range("MNIST: index " + std::to_string(i) + " is out of range for " +
                                std::to_string(size()) + " examples");
    return labels_[i];
}

Array MNIST::image(std::size_t i) const {
    Array one = get_batch({i}).inputs;
    one.reshape({rows_, cols_});
    return one;
}

Batch MNIST::get_batch(const std::vector<std::size_t>& indices) const {
    const std::size_t pixels = rows_ * cols_;
    const std::size_t b = indices.size();
    Batch batch;
    batch.inputs = layout_ == MnistLayout::image ? Array::from_shape({b, 1, rows_, cols_})
                                                 : Array::from_shape({b, pixels});
    batch.targets = Array::from_shape({b});
    // label() checks every index before any image is read
    for (std::size_t k = 0; k < b; ++k) batch.targets(k) = static_cast<float>(label(indices[k]));
    float* out = batch.inputs.data();
    const std::uint8_t* images = images_.data();
    parallel_for(
        b,
        [&](std::size_t begin, std::size_t end, int) {
            for (std::size_t k = begin; k < end; ++k) {
                // Shuffled rows are far apart, so each one's first cache lines miss; asking for
                // the row `ahead` positions on while converting this one hides that wait.
                constexpr std::size_t ahead = 2, line = 64;
                if (k + ahead < end) {
                    const std::uint8_t* next = images + indices[k + ahead] * pixels;
                    for (std::size_t p = 0; p < pixels; p += line) __builtin_prefetch(next + p);
                }
                const std::uint8_t* in = images + indices[k] * pixels;
                float* __restrict to = out + k * pixels;
                // v / 255 (not a table lookup, which does not vectorise)
                for (std::size_t p = 0; p < pixels; ++p) to[p] = static_cast<float>(in[p]) / 255.0f;
            }
        },
        std::max<std::size_t>(1, min_floats_per_thread / std::max<std::size_t>(pixels, 1)));
    return batch;
}

}  // namespace tapegrad
