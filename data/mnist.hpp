// MNIST: 70,000 handwritten digits, 28x28 grey pixels (0 = black background, 255 = white ink).
//
// MNIST(dir, split) reads the two IDX files of a split from `dir`, raw or gzip-compressed:
//   train: train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]   60,000 examples
//   test:  t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]    10,000 examples
// (scripts/fetch_data.sh puts them in datasets/mnist/). The images stay as bytes; a batch
// converts only its own examples to floats in [0, 1]:
//   inputs  [B, 1, rows, cols]  (MnistLayout::image, for convolutions)
//           [B, rows * cols]    (MnistLayout::flat, for MLPs)
//   targets [B], the class index 0..9 of each example as a float.
// rows and cols come from the image file (28 and 28 for MNIST).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dataloader.hpp"
#include "formats/file.hpp"

namespace tapegrad {

enum class MnistSplit { train, test };
enum class MnistLayout { image, flat };

// "train" or "test"; anything else throws DataError.
MnistSplit mnist_split(const std::string& name);

class MNIST : public Dataset {
  public:
    MNIST(const std::string& dir, MnistSplit split, MnistLayout layout = MnistLayout::image);
    MNIST(const std::string& dir, const std::string& split,
          MnistLayout layout = MnistLayout::image);

    std::size_t size() const override { return labels_.size(); }
    std::size_t rows() const { return rows_; }
    std::size_t cols() const { return cols_; }
    MnistLayout layout() const { return layout_; }

    int label(std::size_t i) const;
    // Example i as [rows, cols] floats in [0, 1].
    Array image(std::size_t i) const;
    Batch get_batch(const std::vector<std::size_t>& indices) const override;

    // The files actually read (with or without .gz).
    const std::string& images_path() const { return images_path_; }
    const std::string& labels_path() const { return labels_path_; }

  private:
    std::string images_path_, labels_path_;
    std::size_t rows_ = 0, cols_ = 0;
    Bytes images_;  // size() * rows * cols, row-major
    Bytes labels_;
    MnistLayout layout_;
};

}  // namespace tapegrad
