// read_idx on arbitrary bytes, raw or gzip-compressed (the seeds hold both, so the fuzzer mutates
// IDX headers and gzip streams alike). On success the dims must describe exactly the bytes read.
#include <tapegrad/data/formats/idx.hpp>

#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write_input(data, size, ".idx");
    tapegrad::IdxFile idx;
    if (!fuzz::expect_clean([&] { idx = tapegrad::read_idx(path); })) return 0;
    std::size_t count = 1;
    for (std::size_t d : idx.dims) count *= d;
    if (idx.dims.empty() || count != idx.bytes.size())
        fuzz::broken("dims " + tapegrad::dims_str(idx.dims) + " but " +
                     std::to_string(idx.bytes.size()) + " bytes");
    return 0;
}
