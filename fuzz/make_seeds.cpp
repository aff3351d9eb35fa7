// Writes the seed inputs of the fuzz targets with the library's own writers, so they are valid
// files of the current formats (scripts/fuzz.sh runs it; fuzz/corpus/ adds hand-made and
// NumPy-written ones):
//   make_seeds DIR     ->  DIR/idx/*, DIR/pgm/*, DIR/npz/*
#include <filesystem>
#include <iostream>

#include <tapegrad/tapegrad.hpp>

using namespace tapegrad;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: make_seeds DIR\n";
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    for (const char* sub : {"idx", "pgm", "npz"}) std::filesystem::create_directories(dir / sub);
    auto at = [&](const char* sub, const char* name) { return (dir / sub / name).string(); };

    // IDX: labels (rank 1) and images (rank 3), raw and gzip; two gzip members back to back.
    const Bytes labels{3, 1, 4, 1, 5, 9, 2, 6};
    Bytes images(2 * 3 * 4);
    for (std::size_t i = 0; i < images.size(); ++i) images[i] = static_cast<std::uint8_t>(i * 11);
    write_idx(at("idx", "labels.idx"), {8}, labels);
    write_idx(at("idx", "images.idx"), {2, 3, 4}, images);
    write_idx(at("idx", "labels.idx.gz"), {8}, labels, Compression::gzip);
    write_idx(at("idx", "images.idx.gz"), {2, 3, 4}, images, Compression::gzip);
    {
        Bytes whole = read_file(at("idx", "images.idx"));
        const Bytes a = gzip(Bytes(whole.begin(), whole.begin() + 10));
        const Bytes b = gzip(Bytes(whole.begin() + 10, whole.end()));
        Bytes two(a);
        two.insert(two.end(), b.begin(), b.end());
        write_file(at("idx", "two_members.idx.gz"), two);
    }

    // PGM: a 4x3 ramp, binary and ASCII.
    Array ramp = Array::from_shape({3, 4});
    for (std::size_t i = 0; i < ramp.size(); ++i) ramp.data()[i] = static_cast<float>(i) / 11.0f;
    write_pgm(at("pgm", "ramp_p5.pgm"), ramp, PgmFormat::binary);
    write_pgm(at("pgm", "ramp_p2.pgm"), ramp, PgmFormat::ascii);

    // npz: arrays of 0 to 3 dimensions (one empty), a model, and a checkpoint of the model and
    // Adam optimizer that fuzz_npz loads into.
    save_arrays(at("npz", "shapes.npz"), {{"scalar", Array(2.5f)},
                                              {"vector", Array{1.0f, -2.0f}},
                                              {"empty", Array::from_shape({0, 3})},
                                              {"cube", xt::ones<float>({2, 2, 2})}});
    manual_seed(1);
    auto model = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(3, 2),
                                                  std::make_shared<nn::ReLU>(),
                                                  std::make_shared<nn::Linear>(2, 1));
    nn::save(*model, at("npz", "model.npz"));
    optim::Adam adam(model->parameters(), 0.01f);
    Tensor loss = sum((*model)(Tensor(Array{{1.0f, 2.0f, 3.0f}})));
    loss.backward();
    adam.step();
    optim::save_checkpoint(at("npz", "checkpoint.npz"), *model, adam,
                           {{"epoch", xt::xarray<std::int64_t>{1}},
                            {"history", xt::xarray<double>{0.5, 0.25}},
                            {"settings", text_array("--lr 0.1")}});
    return 0;
}
