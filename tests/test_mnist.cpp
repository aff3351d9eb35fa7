#include <cstdlib>
#include <filesystem>
#include <string>

#include "helpers.hpp"
#include <tapegrad/data/formats/idx.hpp>
#include <tapegrad/data/mnist.hpp>

using namespace tapegrad;
namespace fs = std::filesystem;

namespace {

using test::TempDir;

// Three 28x28 images: image k has every pixel equal to 51 * k (0, 51, 102), except pixel
// (0, 0), which is 255. Labels 3, 0, 9.
void write_tiny_mnist(const TempDir& tmp, const std::string& prefix,
                      Compression compression = Compression::none) {
    Bytes images(3 * 28 * 28);
    for (std::size_t k = 0; k < 3; ++k)
        for (std::size_t p = 0; p < 784; ++p)
            images[k * 784 + p] = static_cast<std::uint8_t>(p == 0 ? 255 : 51 * k);
    const std::string gz = compression == Compression::gzip ? ".gz" : "";
    write_idx(tmp.file(prefix + "-images-idx3-ubyte" + gz), {3, 28, 28}, images, compression);
    write_idx(tmp.file(prefix + "-labels-idx1-ubyte" + gz), {3}, {3, 0, 9}, compression);
}

}  // namespace

TEST_CASE("MNIST reads a split and its labels") {
    TempDir tmp;
    write_tiny_mnist(tmp, "train");
    MNIST train(tmp.dir(), "train");
    CHECK(train.size() == 3);
    CHECK(train.rows() == 28);
    CHECK(train.cols() == 28);
    CHECK(train.label(0) == 3);
    CHECK(train.label(1) == 0);
    CHECK(train.label(2) == 9);
    CHECK(train.images_path() == tmp.file("train-images-idx3-ubyte"));
}

TEST_CASE("MNIST reads gzip files of the test split") {
    TempDir tmp;
    write_tiny_mnist(tmp, "t10k", Compression::gzip);
    MNIST test(tmp.dir(), MnistSplit::test);
    CHECK(test.size() == 3);
    CHECK(test.label(2) == 9);
    CHECK(test.labels_path() == tmp.file("t10k-labels-idx1-ubyte.gz"));
}

TEST_CASE("an MNIST batch is [B 1 28 28] in 0 to 1 with float class labels") {
    TempDir tmp;
    write_tiny_mnist(tmp, "train");
    MNIST train(tmp.dir(), MnistSplit::train);
    Batch batch = train.get_batch({2, 0});
    CHECK(shape_str(batch.inputs.shape()) == "[2, 1, 28, 28]");
    CHECK(shape_str(batch.targets.shape()) == "[2]");
    CHECK(batch.inputs(0, 0, 0, 0) == 1.0f);                        // 255 -> 1
    CHECK(batch.inputs(0, 0, 5, 7) == doctest::Approx(102.0 / 255.0));  // image 2
    CHECK(batch.inputs(1, 0, 27, 27) == 0.0f);                      // image 0
    CHECK(batch.targets(0) == 9.0f);
    CHECK(batch.targets(1) == 3.0f);
}

TEST_CASE("the flat MNIST layout gives [B 784] rows") {
    TempDir tmp;
    write_tiny_mnist(tmp, "train");
    MNIST train(tmp.dir(), MnistSplit::train, MnistLayout::flat);
    Batch batch = train.get_batch({1});
    CHECK(shape_str(batch.inputs.shape()) == "[1, 784]");
    CHECK(batch.inputs(0, 0) == 1.0f);
    CHECK(batch.inputs(0, 783) == doctest::Approx(0.2));  // 51 / 255
    CHECK(batch.targets(0) == 0.0f);
}

TEST_CASE("MNIST image gives one example as rows x cols") {
    TempDir tmp;
    write_tiny_mnist(tmp, "train");
    MNIST train(tmp.dir(), MnistSplit::train);
    Array img = train.image(1);
    CHECK(shape_str(img.shape()) == "[28, 28]");
    CHECK(img(0, 0) == 1.0f);
    CHECK(img(3, 4) == doctest::Approx(0.2));
}

TEST_CASE("a DataLoader over MNIST yields every example once") {
    TempDir tmp;
    write_tiny_mnist(tmp, "train");
    MNIST train(tmp.dir(), MnistSplit::train, MnistLayout::flat);
    DataLoader loader(train, 2, true, 7);
    float label_sum = 0;
    std::size_t seen = 0;
    for (const Batch& batch : loader.epoch(0)) {
        seen += batch.targets.size();
        for (float y : batch.targets) label_sum += y;
    }
    CHECK(seen == 3);
    CHECK(label_sum == 12.0f);  // 3 + 0 + 9
}

TEST_CASE("a missing MNIST file names the folder and the file names tried") {
    TempDir tmp;
    write_tiny_mnist(tmp, "train");
    fs::remove(tmp.file("train-labels-idx1-ubyte"));
    const std::string expected = "MNIST: no training labels in " + tmp.dir() +
                                 ": looked for train-labels-idx1-ubyte and "
                                 "train-labels-idx1-ubyte.gz";
    CHECK_THROWS_WITH_AS(MNIST(tmp.dir(), MnistSplit::train),
                         doctest::Contains(expected.c_str()), DataError);
}

TEST_CASE("a missing MNIST folder says so") {
    CHECK_THROWS_WITH_AS(MNIST("/nonexistent/mnist", MnistSplit::test),
                         doctest::Contains("looked for t10k-images-idx3-ubyte and "
                                           "t10k-images-idx3-ubyte.gz (the folder does not "
                                           "exist)"),
                         DataError);
}

TEST_CASE("MNIST image and label counts must match") {
    TempDir tmp;
    write_tiny_mnist(tmp, "train");
    write_idx(tmp.file("train-labels-idx1-ubyte"), {2}, {1, 2});
    const std::string expected = "train-images-idx3-ubyte has 3 images but " +
                                 tmp.file("train-labels-idx1-ubyte") + " has 2 labels";
    CHECK_THROWS_WITH_AS(MNIST(tmp.dir(), MnistSplit::train),
                         doctest::Contains(expected.c_str()), DataError);
}

TEST_CASE("an MNIST label of 10 or more names its index") {
    TempDir tmp;
    write_tiny_mnist(tmp, "train");
    write_idx(tmp.file("train-labels-idx1-ubyte"), {3}, {4, 10, 200});
    CHECK_THROWS_WITH_AS(MNIST(tmp.dir(), MnistSplit::train),
                         doctest::Contains("train-labels-idx1-ubyte: label 1 is 10; digit labels "
                                           "are 0 to 9"),
                         DataError);
}

TEST_CASE("MNIST images must have rank 3") {
    TempDir tmp;
    write_tiny_mnist(tmp, "train");
    write_idx(tmp.file("train-images-idx3-ubyte"), {3, 784}, Bytes(3 * 784));
    CHECK_THROWS_WITH_AS(MNIST(tmp.dir(), MnistSplit::train),
                         doctest::Contains("train-images-idx3-ubyte: images have dims 3 x 784, "
                                           "expected 3 (count x rows x cols)"),
                         DataError);
}

TEST_CASE("a truncated MNIST file is reported with its path") {
    TempDir tmp;
    write_tiny_mnist(tmp, "t10k");
    Bytes file = read_file(tmp.file("t10k-images-idx3-ubyte"));
    file.resize(16 + 1000);
    write_file(tmp.file("t10k-images-idx3-ubyte"), file, Compression::gzip);
    CHECK_THROWS_WITH_AS(MNIST(tmp.dir(), "test"),
                         doctest::Contains("t10k-images-idx3-ubyte: truncated: header says 3 x "
                                           "28 x 28 = 2352 bytes of data, file has 1000"),
                         DataError);
}

TEST_CASE("an unknown MNIST split name is an error") {
    CHECK_THROWS_WITH_AS(mnist_split("validation"),
                         doctest::Contains("unknown split \"validation\""), DataError);
}

TEST_CASE("an MNIST index out of range throws") {
    TempDir tmp;
    write_tiny_mnist(tmp, "train");
    MNIST train(tmp.dir(), MnistSplit::train);
    CHECK_THROWS_WITH_AS(train.get_batch({0, 3}),
                         doctest::Contains("index 3 is out of range for 3 examples"),
                         std::out_of_range);
}
