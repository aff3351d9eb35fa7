#include "sgd.hpp"

#include <map>
#include <stdexcept>

#include "../backend/parallel.hpp"
#include "../core/tape.hpp"

namespace tapegrad::optim {

SGD::SGD(ParamGroups params, SGDOptions o)
    : Optimizer("SGD", std::move(params), static_cast<float>(o.lr())),
      momentum_(static_cast<float>(o.momentum())),
      dampening_(static_cast<float>(o.dampening())),
      nesterov_(o.nesterov()),
      weight_decay_(static_cast<float>(o.weight_decay())),
      buffers_(params_.size()),
      has_buffer_(params_.size(), false) {
    check_hyper_parameters(momentum_, dampening_, nesterov_, weight_decay_);
}

void SGD::check_hyper_parameters(float momentum, float dampening, bool nesterov,
                                 float weight_decay) const {
    check_non_negative("momentum", momentum);
    check_non_negative("dampening", dampening);
    check_non_negative("weight_decay", weight_decay);
    if (nesterov && (momentum <= 0.0f || dampening != 0.0f))
        throw std::invalid_argument("SGD: Nesterov momentum requires a momentum > 0 and "
                                    "dampening 0, but momentum is " + number_str(momentum) +
                                    " and dampening " + number_str(dampening) +
                                    "; set a momentum such as 0.9 or turn nesterov off");
}

namespace {

// One parameter's update, with the invariant choices taken outside the loop.
void update(float* __restrict w, const float* __restrict grad, float* __restrict buf,
            std::size_t n, float lr, float momentum, float keep, float weight_decay,
            bool nesterov, bool first) {
    // The same operations in the same order as torch (no decay term when weight_decay is 0).
    for (std::size_t k = 0; k < n; ++k) {
        float g = grad[k];
        if (weight_decay != 0.0f) g += weight_decay * w[k];
        if (!buf) {
            w[k] -= lr * g;
            continue;
        }
        buf[k] = first ? g : momentum * buf[k] + keep * g;  // keep = 1 - dampening
        w[k] -= lr * (nesterov ? g + momentum * buf[k] : buf[k]);
    }
}

}  // namespace

void SGD::step() {
    NoGrad no_grad;
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Tensor& p = params_[i];
        if (!p.has_grad()) continue;
        float* w = p.mutable_value().data();
        const float* grad = p.grad().data();
        const std::size_t n = p.size();

        // Same operations in the same order as torch, so the numbers agree to the last bit.
        const bool first = momentum_ != 0.0f && !has_buffer_[i];
        if (first) {
            buffers_[i] = Array::from_shape(p.shape());
            has_buffer_[i] = true;
        }
        float* buf = momentum_ != 0.0f ? buffers_[i].data() : nullptr;
        // Hyper-parameters in locals: stores through w could otherwise alias the members, and the
        // compiler would reload them for every element instead of vectorising the loop.
        const float lr = lr_of(i), momentum = momentum_, weight_decay = weight_decay_of(i, weight_decay_);
        const float keep = static_cast<float>(1.0 - static_cast<double>(dampening_));
        const bool nesterov = nesterov_;
        // Elementwise, so the threads can split a large parameter without changing a bit.
        parallel_for(n, [&](std::size_t begin, std::size_t end, int) {
            update(w + begin, grad + begin, buf ? buf + begin : nullptr, end - begin, lr, momentum,
                   keep, weight_decay, nesterov, first);
        }, min_floats_per_thread);
    }
}

void SGD::save_settings(State& out) const {
    out.put("momentum", momentum_);
    out.put("dampening", dampening_);
    out.put("weight_decay", weight_decay_);
    out.put("nesterov", nesterov_ ? 1.0f : 0.0f);
}

void SGD::save_slots(State& out) const {
    for (std::size_t i = 0; i < params_.size(); ++i)
        if (has_buffer_[i]) out.put("momentum_buffer." + std::to_string(i), buffers_[i]);
}

std::function<void()> SGD::read_state(const StateReader& in) {
    const float momentum = in.float32("momentum", momentum_);
    const float dampening = in.float32("dampening", dampening_);
    const float weight_decay = in.float32("weight_decay", weight_decay_);
    const bool nesterov = in.float32("nesterov", nesterov_ ? 1.0f : 0.0f) != 0.0f;
    check_hyper_parameters(momentum, dampening, nesterov, weight_decay);
    std::vector<const Array*> buffers;
    for (std::size_t i = 0; i < params_.size(); ++i)
        buffers.push_back(in.per_param("momentum_buffer", i, params_[i].shape()));
    return [=] {
        momentum_ = momentum;
        dampening_ = dampening;
        weight_decay_ = weight_decay;
        nesterov_ = nesterov;
        for (std::size_t i = 0; i < buffers.size(); ++i) {
            has_buffer_[i] = buffers[i] != nullptr;
            buffers_[i] = buffers[i] ? *buffers[i] : Array();
        }
    };
}

}  // namespace tapegrad::optim
