#include "tensor.hpp"

#include <new>
#include <sstream>
#include <stdexcept>

#include "memory.hpp"
#include "tape.hpp"

namespace tapegrad {

// Every program that makes a Tensor links this file: the place to tune malloc before main.
static const bool malloc_tuned = tune_malloc();

std::string shape_str(const Shape& shape) {
    std::ostringstream out;
    out << '[';
    for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << ']';
    return out.str();
}

Tensor::Tensor() = default;

namespace {

// Freed node blocks (the shared_ptr control block and the Node, one allocation) wait here, one
// list per thread, for the next make_node() on that thread. Only make_node's allocate_shared uses
// NodeAllocator, so every block has the same size. A node freed on another thread than the one
// that made it joins the freeing thread's list. The cache keeps at most max_cached blocks and
// gives them all back to malloc when its thread ends; frees after that (a Tape or a static
// Tensor destroyed later) go straight to malloc. Under AddressSanitizer the cache is off, so that
// a use of a freed node is still caught.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool cache_nodes = false;
#else
constexpr bool cache_nodes = true;
#endif

struct NodeCache {
    struct Block {
        Block* next;
    };
    static constexpr std::size_t max_cached = std::size_t{1} << 18;  // 128 MB of 512-byte nodes
    Block* head = nullptr;
    std::size_t count = 0;
    ~NodeCache();
};

thread_local NodeCache node_cache;
// Set by ~NodeCache. A separate, trivially destructible flag stays readable after the cache's
// destructor has run, until the thread's storage goes.
thread_local bool node_cache_closed = false;

NodeCache::~NodeCache() {
    node_cache_closed = true;
    while (head) {
        Block* next = head->next;
        ::operator delete(head);
        head = next;
    }
}

template <class T>
struct NodeAllocator {
    static_assert(sizeof(T) >= sizeof(NodeCache::Block), "a node block holds a list link");
    using value_type = T;
    NodeAllocator() = default;
    template <class U>
    NodeAllocator(const NodeAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator

    T* allocate(std::size_t n) {
        if (cache_nodes && n == 1 && !node_cache_closed && node_cache.head) {
            NodeCache& cache = node_cache;
            NodeCache::Block* block = cache.head;
            cache.head = block->next;
            --cache.count;
            block->~Block();
            return static_cast<T*>(static_cast<void*>(block));
        }
        return static_cast<T*>(::operator new(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) {
        if (cache_nodes && n == 1 && !node_cache_closed &&
            node_cache.count < NodeCache::max_cached) {
            NodeCache& cache = node_cache;
            cache.head = ::new (static_cast<void*>(p)) NodeCache::Block{cache.head};
            ++cache.count;
            return;
        }
        ::operator delete(p);
    }
    template <class U>
    bool operator==(const NodeAllocator<U>&) const { return true; }
    template <class U>
    bool operator!=(const NodeAllocator<U>&) const { return false; }
};

}  // namespace

std::shared_ptr<Node> make_node(Array&& value, bool requires_grad, std::uint64_t creator) {
    return std::allocate_shared<Node>(NodeAllocator<Node>(), std::move(value), requires_grad,
                                      creator);
}

Tensor::Tensor(Array value, bool requires_grad)
    : node_(make_node(std::move(value), requires_grad)) {}

Node& Tensor::checked() const {
    if (!node_) throw std::logic_error("tensor: this Tensor is empty (default-constructed); "
                                       "give it a value first");
    return *node_;
}

const Array& Tensor::value() const { return checked().value; }
Array& Tensor::mutable_value() const { return checked().value; }

const Array& Tensor::grad() const {
    static const Array none = Array::from_shape({0});
    const Node& node = checked();
    return node.grad ? *node.grad : none;
}

bool Tensor::has_grad() const { return checked().has_grad(); }

Array& Tensor::mutable_grad() const {
    Node& node = checked();
    if (!node.grad) node.grad.emplace(xt::zeros<float>(node.value.shape()));
    return *node.grad;
}

bool Tensor::requires_grad() const { return checked().requires_grad; }

void Tensor::set_requires_grad(bool requires_grad) const {
    if (!is_leaf())
        throw std::logic_error("set_requires_grad: only a leaf tensor (a parameter or an input) "
                               "can change whether it requires a gradient; this one is the "
                               "output of an op");
    node_->requires_grad = requires_grad;
}

bool Tensor::is_leaf() const { return checked().creator == 0; }

Shape Tensor::shape() const {
    const auto& s = value().shape();
    return Shape(s.begin(), s.end());
}

std::size_t Tensor::dim() const { return value().dimension(); }
std::size_t Tensor::size() const { return value().size(); }

float Tensor::item() const {
    if (size() != 1)
        throw std::invalid_argument("item: the tensor must hold one element, but its shape is " +
                                    shape_str(shape()));
    return *value().begin();
}

void Tensor::backward() const {
    if (size() != 1)
        throw std::invalid_argument(
            "backward: the tensor must hold one element (a scalar loss), but its shape is " +
            shape_str(shape()) + "; reduce it with sum() or mean(), or pass backward(dy)");
    backward(xt::ones<float>(value().shape()));
}

void Tensor::backward(const Array& dy) const {
    const Node& node = checked();
    if (!node.requires_grad)
        throw std::logic_error("backward: this tensor does not require a gradient: no input of "
                               "the ops that made it requires one (or they ran under NoGrad)");
    if (dy.shape() != node.value.shape())
        throw std::invalid_argument("backward: the seed gradient has shape " +
                                    shape_str(dy.shape()) + " but the tensor has shape " +
                                    shape_str(node.value.shape()));
    accumulate_grad(dy);
    Tape::current().backward_from(node);
}

void Tensor::zero_grad() const {
    Node& node = checked();
    if (node.grad) node.grad->fill(0.0f);
}

void Tensor::accumulate_grad(Array dx) const {
    Node& node = checked();
    if (!node.requires_grad) return;
    if (dx.shape() != node.value.shape())
        throw std::logic_error("accumulate_grad: gradient of shape " + shape_str(dx.shape()) +
                               " for a tensor of shape " + shape_str(node.value.shape()) +
                               " (an op forgot to unbroadcast its gradient)");
    if (node.grad) *node.grad += dx;
    else node.grad.emplace(std::move(dx));
}

}  // namespace tapegrad
