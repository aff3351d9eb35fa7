// A gradient audit of live training: after backward(), one row per layer saying whether its
// gradients vanish, explode, or die.
//
//     nn::AuditWatch watch(*model);         // before the forward passes it should see
//     for (...) {
//         Tensor loss = loss_fn((*model)(x), y);
//         optimizer.zero_grad();
//         loss.backward();
//         optimizer.step();
//         if (step % 100 == 0) nn::print_audit(std::cout, nn::audit(*model));
//     }
//
// A row is a module with parameters of its own (Linear, Conv2D, ...) or an activation layer
// (ReLU, Sigmoid, Tanh), in the order of named_parameters(), named by its dotted path ("0",
// "fc1"). A layer's columns:
//   grad_norm      sqrt of the sum of squares of all its parameters' gradients
//   max_abs_grad   the largest |gradient| of any of its parameters
//   update_ratio   |the last optimizer step's change of its parameters| / |its parameters|:
//                  around 1e-3 is the usual healthy rate; far below, the layer barely learns
// and an activation layer's, from the last forward pass the watch saw (grad mode on):
//   dead           ReLU: the fraction of its units (every element but the batch axis) that
//                  are 0 for every sample of the batch: no gradient flows through them
//   saturated      Sigmoid, Tanh: the fraction of outputs whose input z has |z| > 4, where the
//                  derivative is below 0.018 (sigmoid) or 0.0013 (tanh)
// flag is "vanishing" when grad_norm < AuditOptions::vanishing times the parameters' norm,
// "exploding" above AuditOptions::exploding times it (or not finite), "dead" or "saturated"
// above AuditOptions::activations of the units; else empty.
//
// The watch sees layers called as modules (operator()); an activation applied as a function
// inside a forward (relu(x)) is not seen. While a watch lives, the runs nn::fuse joins are
// called layer by layer (as under summary()), with the same numbers. Without a watch, audit()
// fills the gradient columns only (the others are NaN).
#pragma once

#include <iosfwd>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "module.hpp"

namespace tapegrad::nn {

struct AuditOptions {
    double vanishing = 1e-5;    // grad_norm / parameter norm below this: "vanishing"
    double exploding = 1.0;     // above this: "exploding"
    double activations = 0.5;   // dead or saturated fraction above this: flagged
    double saturation = 4.0;    // |z| beyond which a sigmoid or tanh counts as saturated
};

struct AuditRow {
    static constexpr double none = std::numeric_limits<double>::quiet_NaN();
    std::string layer;          // dotted path
    std::string type;           // type_name(): "Linear", "ReLU", ...
    std::size_t parameters = 0;
    double grad_norm = none, max_abs_grad = none, update_ratio = none;
    double dead = none, saturated = none;
    std::string flag;
};

// Watches a model's training forward passes (calls under NoGrad are left out) while it lives:
// its activation layers' outputs, and its parameters at each forward pass (for update_ratio).
class AuditWatch : public CallWatcher {
  public:
    explicit AuditWatch(const Module& model, AuditOptions options = {});
    ~AuditWatch() override;
    void called(const Module& m, const Tensor& output) override;

    const Module& model() const { return model_; }
    const AuditOptions& options() const { return options_; }
    // For audit(): the activation statistics of the last forward pass, by module.
    struct Seen {
        double dead = AuditRow::none, saturated = AuditRow::none;
    };
    const std::unordered_map<const Module*, Seen>& seen() const { return seen_; }
    // The parameters at the last forward pass and at the one before (empty before them).
    const std::vector<Array>& at_forward() const { return at_forward_; }
    const std::vector<Array>& before() const { return before_; }

  private:
    const Module& model_;
    AuditOptions options_;
    std::unordered_map<const Module*, Seen> seen_;
    std::vector<Array> at_forward_, before_;
};

// The table, after backward(). Uses the AuditWatch of this model on this thread, if there is one.
std::vector<AuditRow> audit(const Module& model, const AuditOptions& options = {});

// The table as text, a row per layer; flagged rows end with their flag.
void print_audit(std::ostream& out, const std::vector<AuditRow>& rows);
// CSV lines (no header) with `step` in front: step,layer,type,parameters,grad_norm,
// max_abs_grad,update_ratio,dead,saturated,flag; a NaN is an empty field.
std::string audit_csv(const std::vector<AuditRow>& rows, std::size_t step);
inline const char* audit_csv_header() {
    return "step,layer,type,parameters,grad_norm,max_abs_grad,update_ratio,dead,saturated,flag\n";
}

}  // namespace tapegrad::nn
