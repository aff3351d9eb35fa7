// The machinery under the engine (backend/ and core/): the record's closure type, its input list, the
// node cache, the thread pool's contract, the malloc settings.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "helpers.hpp"

#include <tapegrad/backend/chunked_vector.hpp>
#include <tapegrad/backend/fast_paths.hpp>
#include <tapegrad/backend/node_cache.hpp>
#include <tapegrad/backend/small_blocks.hpp>
#include <xtensor/xstrided_view.hpp>

using namespace tapegrad;
using detail::Derivative;

namespace {

// Counts how often it is alive, so that a test sees every copy destroyed.
struct Alive {
    explicit Alive(int* count) : count(count) { ++*count; }
    Alive(const Alive& other) : count(other.count) { ++*count; }
    Alive(Alive&& other) noexcept : count(other.count) { ++*count; }
    ~Alive() { --*count; }
    int* count;
};

}  // namespace

TEST_CASE("Derivative stores a small closure inline and a large one on the heap") {
    auto small = [](const Inputs&, const Tensor&, const Tensor&) { return Grads{}; };
    std::array<char, 200> big_capture{};
    auto large = [big_capture](const Inputs&, const Tensor&, const Tensor&) {
        (void)big_capture;
        return Grads{};
    };
    CHECK(Derivative::stored_inline<decltype(small)>());
    CHECK_FALSE(Derivative::stored_inline<decltype(large)>());
    // Three Tensor handles fit inside.
    Tensor a, b, c;
    auto three = [a, b, c](const Inputs&, const Tensor&, const Tensor&) { return Grads{}; };
    CHECK(Derivative::stored_inline<decltype(three)>());
}

TEST_CASE("Derivative calls its closure with the inputs, y and dy, inline and on the heap") {
    const Inputs in{Tensor(Array{5.0f})};
    Derivative inline_fn = [](const Inputs& x, const Tensor& y, const Tensor& dy) {
        return Grads{Tensor(Array{dy.item() * y.item() + x[0].item()})};
    };
    CHECK(inline_fn(in, Tensor(Array{3.0f}), Tensor(Array{2.0f}))[0].item() == 11.0f);
    std::array<float, 64> weights{};
    weights[5] = 10.0f;
    Derivative heap_fn = [weights](const Inputs&, const Tensor&, const Tensor& dy) {
        return Grads{Tensor(Array{dy.item() + weights[5]})};
    };
    CHECK(heap_fn(in, Tensor(), Tensor(Array{2.0f}))[0].item() == 12.0f);
    CHECK_FALSE(heap_fn.has_fast());
    Derivative with_fast(
        [](const Inputs&, const Tensor&, const Tensor&) { return Grads{Tensor(Array{1.0f})}; },
        [](const Inputs&, const Tensor&, const Tensor&) { return Grads{Tensor(Array{2.0f})}; });
    REQUIRE(with_fast.has_fast());
    CHECK(with_fast(in, Tensor(), Tensor())[0].item() == 1.0f);
    CHECK(with_fast.fast(in, Tensor(), Tensor())[0].item() == 2.0f);
}

TEST_CASE("Derivative moves and resets destroy each capture exactly once") {
    int alive = 0;
    std::array<char, 200> padding{};
    auto none = [](const Inputs&, const Tensor&, const Tensor&) { return Grads{}; };
    {
        Derivative inline_fn = [guard = Alive(&alive)](const Inputs&, const Tensor&,
                                                       const Tensor&) { return Grads{}; };
        Derivative heap_fn = [guard = Alive(&alive), padding](const Inputs&, const Tensor&,
                                                              const Tensor&) {
            (void)padding;
            return Grads{};
        };
        CHECK(alive == 2);
        Derivative moved_inline = std::move(inline_fn);
        Derivative moved_heap = std::move(heap_fn);
        CHECK(alive == 2);
        CHECK_FALSE(static_cast<bool>(inline_fn));  // NOLINT: testing the moved-from state
        CHECK(static_cast<bool>(moved_heap));
        moved_inline = std::move(moved_heap);  // destroys the inline capture, takes the heap one
        CHECK(alive == 1);
        moved_inline = nullptr;
        CHECK(alive == 0);
        CHECK_FALSE(static_cast<bool>(moved_inline));
        Derivative again(none, [guard = Alive(&alive)](const Inputs&, const Tensor&,
                                                       const Tensor&) { return Grads{}; });
        again = std::move(again);  // self-move keeps it
        CHECK(alive == 1);
    }
    CHECK(alive == 0);
}

TEST_CASE("TensorList keeps four tensors inline and more beyond, in order") {
    TensorList list;
    std::vector<Tensor> tensors;
    for (int i = 0; i < 7; ++i) {
        tensors.emplace_back(Array{static_cast<float>(i)});
        list.push_back(tensors.back());
    }
    REQUIRE(list.size() == 7);
    for (std::size_t i = 0; i < 7; ++i) CHECK(list[i].node() == tensors[i].node());
    list.clear();
    CHECK(list.size() == 0);
    for (const Tensor& t : tensors) CHECK(t.node().use_count() == 1);  // the list let go of them all
}

TEST_CASE("TensorList copies and moves its tensors, and Grads{t} moves a temporary in") {
    Tensor a(Array{1.0f}), b(Array{2.0f});
    TensorList list{a, Tensor(Array{3.0f})};
    CHECK(a.node().use_count() == 2);
    TensorList copy(list);
    CHECK(a.node().use_count() == 3);
    TensorList moved(std::move(copy));
    CHECK(a.node().use_count() == 3);
    CHECK(moved[1].item() == 3.0f);
    copy = moved;
    CHECK(copy.size() == 2);
    CHECK(a.node().use_count() == 4);
    moved = TensorList{b};
    CHECK(moved.size() == 1);
    CHECK(moved[0].node() == b.node());
    CHECK(a.node().use_count() == 3);
}

TEST_CASE("ChunkedVector keeps its elements in place as it grows, and erases in order") {
    detail::ChunkedVector<std::vector<int>, 4> v;
    v.emplace_back(std::vector<int>{0});
    const std::vector<int>* first = &v[0];
    for (int i = 1; i < 10; ++i) v.emplace_back(std::vector<int>{i});
    CHECK(&v[0] == first);  // three chunks later, the first element has not moved
    REQUIRE(v.size() == 10);
    v.erase_if(2, 8, [](const std::vector<int>& e) { return e[0] % 2 == 1; });  // 3, 5, 7 go
    std::vector<int> left;
    for (std::size_t i = 0; i < v.size(); ++i) left.push_back(v[i][0]);
    CHECK(left == std::vector<int>{0, 1, 2, 4, 6, 8, 9});
    v.erase_from(3);
    CHECK(v.size() == 3);
    v.emplace_back(std::vector<int>{42});  // reuses the chunk kept after shrinking
    CHECK(v.back()[0] == 42);
    CHECK(&v[0] == first);
}

TEST_CASE("freed nodes wait in the thread's cache and are reused by the next make_node") {
#if defined(__SANITIZE_ADDRESS__)
    test::skip_test("the node cache is off under AddressSanitizer");
#else
    { Tensor warm(Array{0.0f}); }  // freed: the cache holds at least one block
    const std::size_t before = detail::cached_node_blocks();
    REQUIRE(before >= 1);
    {
        Tensor t(Array{1.0f});
        CHECK(detail::cached_node_blocks() == before - 1);
    }
    CHECK(detail::cached_node_blocks() == before);
#endif
}

TEST_CASE("an empty cache refills from a slab, and a thread's blocks outlive it in the process's pool") {
#if defined(__SANITIZE_ADDRESS__)
    test::skip_test("the node cache is off under AddressSanitizer");
#else
    std::size_t refilled = 0, held = 0, slabs_after_first = 0, slabs_after_second = 0;
    std::thread([&] {  // a new thread, so its own cache starts empty
        std::vector<Tensor> many;
        const std::size_t slabs = detail::NodeBlockCache::slabs();
        // Until the pool runs dry and a new slab is cut for this thread.
        while (detail::NodeBlockCache::slabs() == slabs && many.size() < 1000000)
            many.emplace_back(Array{1.0f});
        refilled = detail::cached_node_blocks();  // the new slab but the block just taken
        held = many.size();
        slabs_after_first = detail::NodeBlockCache::slabs();
    }).join();  // its blocks, held and cached, go to the pool
    std::thread([&] {
        std::vector<Tensor> many;
        for (std::size_t i = 0; i < held; ++i) many.emplace_back(Array{1.0f});
        slabs_after_second = detail::NodeBlockCache::slabs();
    }).join();
    CHECK(refilled >= 15);                           // one take brought a slab of 16 or more
    CHECK(slabs_after_second == slabs_after_first);  // the second thread reused the first's blocks
#endif
}

TEST_CASE("a full free list sends half its blocks to the pool, where the next refill finds them") {
#if defined(__SANITIZE_ADDRESS__)
    test::skip_test("the free lists are off under AddressSanitizer");
#else
    struct Tag;
    using List = detail::FreeList<Tag, 8>;  // at most 8 blocks wait in a thread's list
    std::vector<void*> blocks;
    for (int i = 0; i < 40; ++i) blocks.push_back(List::take(64));
    const std::size_t slabs = List::slabs();
    CHECK(slabs == 1);  // 256 blocks of 64 bytes
    for (void* b : blocks) {
        List::give(b);
        CHECK(List::cached() <= 8);
    }
    for (void*& b : blocks) b = List::take(64);  // from the list, then from the pool
    CHECK(List::slabs() == slabs);
    CHECK(std::set<void*>(blocks.begin(), blocks.end()).size() == blocks.size());  // all distinct
    for (void* b : blocks) List::give(b);
#endif
}

TEST_CASE("a node made on one thread and freed on another goes to the freeing thread") {
    auto node = std::make_unique<Tensor>(Array{1.0f});
    std::thread([&node] { node.reset(); }).join();
    CHECK(node == nullptr);
    Tensor after(Array{3.0f});  // this thread's cache still works
    CHECK(after.item() == 3.0f);
}

TEST_CASE("small arrays take their values from the thread's cache of freed blocks") {
#if defined(__SANITIZE_ADDRESS__)
    test::skip_test("the small-block cache is off under AddressSanitizer");
#else
    { const Array warm = xt::ones<float>({1}); }  // freed: the cache holds at least one block
    const std::size_t cached = detail::cached_small_blocks();
    REQUIRE(cached >= 1);
    {
        Array a = xt::ones<float>({detail::small_floats});  // the largest that takes a block
        CHECK(detail::cached_small_blocks() == cached - 1);
        const Array big = xt::ones<float>({detail::small_floats + 1});  // from operator new
        CHECK(detail::cached_small_blocks() == cached - 1);
        a(0) = 5.0f;
        CHECK(xt::sum(a)() == 5.0f + static_cast<float>(detail::small_floats - 1));
        CHECK(xt::sum(big)() == static_cast<float>(detail::small_floats + 1));
    }
    CHECK(detail::cached_small_blocks() == cached);
#endif
}

TEST_CASE("an Array converts to and from a plain xt::xarray of floats, as the README says") {
    const Tensor t(Array{1.0f, 2.0f, 3.0f});
    const xt::xarray<float> copy = t.value();
    xt::xarray<float> twice = t.value() * 2.0f;
    const Array back = twice;
    CHECK(copy(2) == 3.0f);
    CHECK(back(1) == 4.0f);
    CHECK(xt::allclose(Tensor(back).value(), twice));
}

TEST_CASE("an Array keeps its shape inline: up to 8 dimensions, more is an error that says so") {
    Array a = xt::zeros<float>({2, 1, 1, 1, 1, 1, 1, 3});
    CHECK(a.dimension() == 8);
    CHECK(a.strides()[0] == 3);
    a(1, 0, 0, 0, 0, 0, 0, 2) = 7.0f;
    const Array moved = std::move(a);
    CHECK(moved.data()[5] == 7.0f);
    CHECK(xt::sum(moved)() == 7.0f);
    const Array reshaped = xt::reshape_view(moved, {6});
    CHECK(reshaped(5) == 7.0f);
    CHECK_THROWS_WITH_AS(Array(xt::zeros<float>(std::vector<std::size_t>(9, 1))),
                         "tapegrad: an array has at most 8 dimensions; this one would have 9",
                         std::length_error);
    detail::InlineShape<std::size_t> s{4, 5};
    s.insert(s.begin(), 3);
    s.insert(s.end(), {6, 7});
    CHECK(s == std::vector<std::size_t>{3, 4, 5, 6, 7});
    s.erase(s.begin() + 1, s.begin() + 3);
    CHECK(s == std::vector<std::size_t>{3, 6, 7});
    CHECK_THROWS_AS(s.at(3), std::out_of_range);
}

TEST_CASE("a node's gradient lives outside the node, made on first use, replaced and moved whole") {
    CHECK(sizeof(Node) < sizeof(Array) + 128);  // the value, and a pointer for the gradient
    detail::GradSlot<Array> slot;
    CHECK_FALSE(slot);
    slot.emplace(xt::ones<float>({3}));
    REQUIRE(slot.has_value());
    CHECK(slot->size() == 3);
    CHECK((*slot)(2) == 1.0f);
    slot.emplace(Array{5.0f});
    CHECK(slot->size() == 1);
    detail::GradSlot<Array> moved = std::move(slot);
    CHECK_FALSE(slot);
    CHECK((*moved)(0) == 5.0f);
    // An array that cannot be made leaves the slot empty (and its block back in the list).
    CHECK_THROWS_AS(moved.emplace(xt::zeros<float>(std::vector<std::size_t>(9, 1))),
                    std::length_error);
    CHECK_FALSE(moved);
    moved.emplace(Array{1.0f, 2.0f});
    moved.reset();
    CHECK_FALSE(moved.has_value());
}

TEST_CASE("a small array made on one thread and freed on another goes to the freeing thread") {
    auto a = std::make_unique<Array>(xt::ones<float>({3}));
    std::thread([&a] { a.reset(); }).join();
    CHECK(a == nullptr);
    const Array after = xt::ones<float>({3}) * 2.0f;  // this thread's cache still works
    CHECK(after(2) == 2.0f);
}

TEST_CASE("parallel_for splits 0 .. n into contiguous ranges, one per part, in order") {
    test::ScopedThreads threads(2);
    std::mutex m;
    std::vector<std::array<std::size_t, 3>> seen;
    parallel_for(10, [&](std::size_t begin, std::size_t end, int t) {
        std::lock_guard<std::mutex> lock(m);
        seen.push_back({begin, end, static_cast<std::size_t>(t)});
    });
    std::sort(seen.begin(), seen.end(), [](auto& a, auto& b) { return a[2] < b[2]; });
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == std::array<std::size_t, 3>{0, 5, 0});
    CHECK(seen[1] == std::array<std::size_t, 3>{5, 10, 1});
}

TEST_CASE("parallel_for of n = 0 runs no part, and min_per_part keeps small jobs on one thread") {
    test::ScopedThreads threads(2);
    int calls = 0;
    parallel_for(0, [&](std::size_t, std::size_t, int) { ++calls; });
    CHECK(calls == 0);
    CHECK(parallel_parts(0) == 1);
    CHECK(parallel_parts(100, 64) == 1);
    CHECK(parallel_parts(128, 64) == 2);
    CHECK(parallel_parts(1000000, 1) == 2);
}

TEST_CASE("parallel_for rethrows a part's exception only after every part has finished") {
    test::ScopedThreads threads(2);
    std::atomic<bool> other_finished{false};
    CHECK_THROWS_WITH_AS(
        parallel_for(2, [&](std::size_t begin, std::size_t, int) {
            if (begin == 0) throw std::runtime_error("part 0 failed");
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            other_finished = true;
        }),
        "part 0 failed", std::runtime_error);
    CHECK(other_finished);
    // The pool is usable afterwards.
    std::atomic<int> parts{0};
    parallel_for(2, [&](std::size_t, std::size_t, int) { ++parts; });
    CHECK(parts == 2);
}

TEST_CASE("a parallel_for inside a parallel_for runs serially on its caller's thread") {
    test::ScopedThreads threads(2);
    std::atomic<int> inner_parts{0}, inner_items{0}, nested_split{0};
    parallel_for(2, [&](std::size_t, std::size_t, int) {
        if (parallel_parts(1000) != 1) ++nested_split;
        parallel_for(1000, [&](std::size_t begin, std::size_t end, int t) {
            if (t != 0) ++nested_split;
            ++inner_parts;
            inner_items += static_cast<int>(end - begin);
        });
    });
    CHECK(nested_split == 0);
    CHECK(inner_parts == 2);
    CHECK(inner_items == 2000);
}

TEST_CASE("tune_malloc applies the settings unless TAPEGRAD_MALLOC=keep") {
    setenv("TAPEGRAD_MALLOC", "keep", 1);
    CHECK_FALSE(tune_malloc());
    unsetenv("TAPEGRAD_MALLOC");
#if defined(__GLIBC__)
    CHECK(tune_malloc());
#endif
}

TEST_CASE("TAPEGRAD_FAST_PATHS says which fast paths start on, and an unknown name is an error naming it") {
    const char* before = std::getenv("TAPEGRAD_FAST_PATHS");
    const std::string saved = before ? before : "";
    struct Restore {
        bool had;
        std::string value;
        ~Restore() {
            if (had) setenv("TAPEGRAD_FAST_PATHS", value.c_str(), 1);
            else unsetenv("TAPEGRAD_FAST_PATHS");
        }
    } restore{before != nullptr, saved};
    unsetenv("TAPEGRAD_FAST_PATHS");
    CHECK(fast_path_starts_on("xsmm"));
    setenv("TAPEGRAD_FAST_PATHS", "all", 1);
    CHECK(fast_path_starts_on("plane_conv"));
    setenv("TAPEGRAD_FAST_PATHS", "none", 1);
    CHECK_FALSE(fast_path_starts_on("narrow_gemm"));
    setenv("TAPEGRAD_FAST_PATHS", "xsmm,plane_conv", 1);
    CHECK(fast_path_starts_on("xsmm"));
    CHECK(fast_path_starts_on("plane_conv"));
    CHECK_FALSE(fast_path_starts_on("narrow_gemm"));
    setenv("TAPEGRAD_FAST_PATHS", "xsmm,narow_gemm", 1);
    CHECK_THROWS_WITH_AS(fast_path_starts_on("xsmm"),
                         doctest::Contains("unknown fast path 'narow_gemm'"),
                         std::invalid_argument);
}
