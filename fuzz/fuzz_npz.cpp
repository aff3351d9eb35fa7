// The checkpoint loader on arbitrary bytes: load_npz (ZIP structure, CRC-32s, .npy headers of four
// dtypes, stored and deflate entries), then, when that succeeds, optim::load_checkpoint into a
// small model with an Adam optimizer (names, shapes and optimizer state checked against the
// model). On success every array must survive to_npy/from_npy_typed bit for bit.
#include <cstring>

#include <tapegrad/tapegrad.hpp>

#include "fuzz_input.hpp"

using namespace tapegrad;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write_input(data, size, ".npz");
    NamedTypedArrays arrays;
    if (!fuzz::expect_clean([&] { arrays = load_npz(path); })) return 0;
    for (const auto& [name, a] : arrays) {
        const std::string npy = to_npy(a);
        const TypedArray back = from_npy_typed(npy, name);
        if (dtype_of(back) != dtype_of(a) || shape_of(back) != shape_of(a) || to_npy(back) != npy)
            fuzz::broken("'" + name + "' " + shape_str(shape_of(a)) + " does not round trip");
    }
    // The same model and optimizer as fuzz_seeds writes a checkpoint of; fresh for every input,
    // so that no input depends on an earlier one.
    auto model = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(3, 2),
                                                  std::make_shared<nn::ReLU>(),
                                                  std::make_shared<nn::Linear>(2, 1));
    optim::Adam adam(model->parameters(), 0.01f);
    fuzz::expect_clean([&] { optim::load_checkpoint(path, *model, adam); });
    return 0;
}
