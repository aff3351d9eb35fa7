// The parts of dist that need no MPI: the state hash and the install hint.
#include "distributed.hpp"

#include <cstring>

namespace tapegrad::distributed {

std::string how_to_get_mpi() {
    return "install MPI (Debian: apt-get install libopenmpi-dev openmpi-bin, as root; "
           "scripts/setup.sh does it) and build again with -DTAPEGRAD_WITH_MPI=ON (the default)";
}

namespace {

// FNV-1a, 64 bits.
struct Fnv {
    std::uint64_t h = 14695981039346656037ull;
    void add(const void* data, std::size_t n) {
        const auto* p = static_cast<const unsigned char*>(data);
        for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
    }
    void add(const std::string& s) { add(s.data(), s.size() + 1); }  // with its terminator
    void add(const Array& a) {
        for (std::size_t d : a.shape()) add(&d, sizeof d);
        add(a.data(), a.size() * sizeof(float));
    }
    void add(const TypedArray& a) {  // its dtype, shape and bytes
        const auto dtype = static_cast<int>(dtype_of(a));
        add(&dtype, sizeof dtype);
        std::visit([this](const auto& array) {
            for (std::size_t d : array.shape()) add(&d, sizeof d);
            add(array.data(), array.size() * sizeof(*array.data()));
        }, a);
    }
};

}  // namespace

std::uint64_t state_hash(const nn::Module& module, const optim::Optimizer* optimizer) {
    Fnv f;
    for (const auto& [name, t] : module.named_parameters()) {
        f.add(name);
        f.add(t.value());
    }
    for (const auto& [name, t] : module.named_buffers()) {
        f.add(name);
        f.add(t.value());
    }
    if (optimizer)
        for (const auto& [name, a] : optimizer->state()) {
            f.add(name);
            f.add(a);
        }
    return f.h;
}

}  // namespace tapegrad::distributed
