// The shape and strides of an Array (core/tensor.hpp): up to max_dims numbers kept inside the
// array object, copied and moved as plain bytes.
//
// xtensor's own small vector moves by swapping element by element through its heap-or-inline
// logic; an op on a scalar builds, moves and frees several arrays, and those moves cost more than
// the arithmetic. InlineShape has the interface xtensor asks of a shape container (that of
// std::vector) and no heap: an array has at most max_dims dimensions, and a shape with more is a
// std::length_error that says so. Tested in tests/test_runtime.cpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <xtensor/xutils.hpp>

namespace tapegrad::detail {

constexpr std::size_t max_dims = 8;

[[noreturn]] void throw_too_many_dims(std::size_t n);  // backend/inline_shape.cpp

template <class T, std::size_t N = max_dims>
class InlineShape {
    static_assert(std::is_trivially_copyable<T>::value, "InlineShape holds plain numbers");

  public:
    using value_type = T;
    using size_type = std::size_t;
    using difference_type = std::ptrdiff_t;
    using reference = T&;
    using const_reference = const T&;
    using pointer = T*;
    using const_pointer = const T*;
    using iterator = T*;
    using const_iterator = const T*;
    using reverse_iterator = std::reverse_iterator<iterator>;
    using const_reverse_iterator = std::reverse_iterator<const_iterator>;
    using allocator_type = std::allocator<T>;

    InlineShape() = default;
    explicit InlineShape(size_type n) { resize(n); }
    InlineShape(size_type n, const T& v) { assign(n, v); }
    InlineShape(std::initializer_list<T> values) { assign(values.begin(), values.end()); }
    template <class It, class = typename std::iterator_traits<It>::iterator_category>
    InlineShape(It first, It last) { assign(first, last); }

    void assign(size_type n, const T& v) {
        resize(n);
        std::fill(begin(), end(), v);
    }
    template <class It, class = typename std::iterator_traits<It>::iterator_category>
    void assign(It first, It last) {
        const auto n = std::distance(first, last);
        resize(static_cast<size_type>(n));
        std::copy(first, last, begin());
    }
    template <class V>
    void assign(std::initializer_list<V> values) { assign(values.begin(), values.end()); }

    reference operator[](size_type i) { return data_[i]; }
    const_reference operator[](size_type i) const { return data_[i]; }
    reference at(size_type i) {
        check_index(i);
        return data_[i];
    }
    const_reference at(size_type i) const {
        check_index(i);
        return data_[i];
    }
    reference front() { return data_[0]; }
    const_reference front() const { return data_[0]; }
    reference back() { return data_[size_ - 1]; }
    const_reference back() const { return data_[size_ - 1]; }
    pointer data() { return data_; }
    const_pointer data() const { return data_; }

    iterator begin() { return data_; }
    const_iterator begin() const { return data_; }
    const_iterator cbegin() const { return data_; }
    iterator end() { return data_ + size_; }
    const_iterator end() const { return data_ + size_; }
    const_iterator cend() const { return data_ + size_; }
    reverse_iterator rbegin() { return reverse_iterator(end()); }
    const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
    const_reverse_iterator crbegin() const { return rbegin(); }
    reverse_iterator rend() { return reverse_iterator(begin()); }
    const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }
    const_reverse_iterator crend() const { return rend(); }

    bool empty() const { return size_ == 0; }
    size_type size() const { return size_; }
    static constexpr size_type max_size() { return N; }
    static constexpr size_type capacity() { return N; }
    void reserve(size_type n) const {
        if (n > N) throw_too_many_dims(n);
    }
    void shrink_to_fit() {}
    void clear() { size_ = 0; }
    void resize(size_type n) {
        if (n > N) throw_too_many_dims(n);
        size_ = n;
    }
    void resize(size_type n, const T& v) {
        const size_type old = size_;
        resize(n);
        if (n > old) std::fill(data_ + old, data_ + n, v);
    }
    void push_back(const T& v) {
        resize(size_ + 1);
        back() = v;
    }
    void pop_back() { --size_; }

    iterator erase(const_iterator at) { return erase(at, at + 1); }
    iterator erase(const_iterator first, const_iterator last) {
        iterator to = begin() + (first - begin());
        std::copy(last, cend(), to);
        size_ -= static_cast<size_type>(last - first);
        return to;
    }
    iterator insert(const_iterator at, const T& v) { return insert(at, &v, &v + 1); }
    iterator insert(const_iterator at, std::initializer_list<T> values) {
        return insert(at, values.begin(), values.end());
    }
    template <class It, class = typename std::iterator_traits<It>::iterator_category>
    iterator insert(const_iterator at, It first, It last) {
        const std::vector<T> added(first, last);  // `first` may point into this shape
        const size_type index = static_cast<size_type>(at - begin());
        const size_type old = size_;
        resize(old + added.size());
        std::copy_backward(data_ + index, data_ + old, data_ + size_);
        std::copy(added.begin(), added.end(), data_ + index);
        return begin() + index;
    }
    void swap(InlineShape& other) { std::swap(*this, other); }
    allocator_type get_allocator() const { return {}; }

  private:
    void check_index(size_type i) const {
        if (i >= size_)
            throw std::out_of_range("InlineShape::at: index " + std::to_string(i) +
                                    " past the size " + std::to_string(size_));
    }

    size_type size_ = 0;
    T data_[N] = {};
};

template <class T, std::size_t N>
bool operator==(const InlineShape<T, N>& a, const InlineShape<T, N>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}
template <class T, std::size_t N>
bool operator!=(const InlineShape<T, N>& a, const InlineShape<T, N>& b) {
    return !(a == b);
}
template <class T, std::size_t N>
bool operator<(const InlineShape<T, N>& a, const InlineShape<T, N>& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}
template <class T, std::size_t N>
bool operator==(const InlineShape<T, N>& a, const std::vector<T>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}
template <class T, std::size_t N>
bool operator==(const std::vector<T>& a, const InlineShape<T, N>& b) {
    return b == a;
}
template <class T, std::size_t N>
bool operator!=(const InlineShape<T, N>& a, const std::vector<T>& b) {
    return !(a == b);
}
template <class T, std::size_t N>
bool operator!=(const std::vector<T>& a, const InlineShape<T, N>& b) {
    return !(b == a);
}

}  // namespace tapegrad::detail

namespace xt {
// The strides of an array shaped by an InlineShape are an InlineShape of signed numbers.
template <class X, class T, std::size_t N>
struct rebind_container<X, tapegrad::detail::InlineShape<T, N>> {
    using type = tapegrad::detail::InlineShape<X, N>;
};
}  // namespace xt
