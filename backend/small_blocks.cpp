#include "small_blocks.hpp"

#include "free_list.hpp"

namespace tapegrad::detail {

namespace {
struct SmallBlocks;  // the list's name
using Cache = FreeList<SmallBlocks, std::size_t{1} << 20>;  // at most 64 MB of blocks
constexpr std::size_t block_bytes = small_floats * 4;
}  // namespace

void* take_small_block() { return Cache::take(block_bytes); }
void give_small_block(void* block) { Cache::give(block); }
std::size_t cached_small_blocks() { return Cache::cached(); }

}  // namespace tapegrad::detail
