#include <cmath>
#include <sstream>

#include "helpers.hpp"

#include <tapegrad/nn/audit.hpp>
#include <tapegrad/nn/containers.hpp>
#include <tapegrad/nn/layers.hpp>
#include <tapegrad/optim/sgd.hpp>

using namespace tapegrad;

namespace {

// Linear(2, 2) -> ReLU -> Linear(2, 1), weights set by hand. On the batch x below, hidden unit
// 1 (weights (-1, -1), bias -1) is negative for every sample: dead; unit 0 is not.
std::shared_ptr<nn::Sequential> relu_net() {
    auto net = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(2, 2), std::make_shared<nn::ReLU>(),
                                                std::make_shared<nn::Linear>(2, 1));
    const auto p = net->named_parameters();
    p[0].second.mutable_value() = Array{{1.0f, 0.5f}, {-1.0f, -1.0f}};
    p[1].second.mutable_value() = Array{0.1f, -1.0f};
    p[2].second.mutable_value() = Array{{2.0f, 3.0f}};
    p[3].second.mutable_value() = Array{0.5f};
    return net;
}

const Tensor batch_x(Array{{1.0f, 2.0f}, {0.5f, 0.0f}, {2.0f, 1.0f}});

const nn::AuditRow& row(const std::vector<nn::AuditRow>& rows, const std::string& layer) {
    for (const auto& r : rows)
        if (r.layer == layer) return r;
    throw std::runtime_error("no row " + layer);
}

}  // namespace

TEST_CASE("audit gives each layer its gradient norm and largest gradient") {
    auto net = relu_net();
    nn::AuditWatch watch(*net);
    sum((*net)(batch_x)).backward();
    const auto rows = nn::audit(*net);
    REQUIRE(rows.size() == 3);  // 0 Linear, 1 ReLU, 2 Linear
    CHECK(rows[1].type == "ReLU");
    // Layer 2's gradient: dW = sum over samples of h, db = 3 (three samples).
    const auto p = net->named_parameters();
    double squares = 0, largest = 0;
    for (std::size_t i = 2; i < 4; ++i)
        for (float g : p[i].second.grad()) squares += double(g) * g, largest = std::max(largest, double(std::abs(g)));
    CHECK(row(rows, "2").grad_norm == doctest::Approx(std::sqrt(squares)));
    CHECK(row(rows, "2").max_abs_grad == doctest::Approx(largest));
    CHECK(row(rows, "2").parameters == 3);
    // h0 = x . (1, 0.5) + 0.1 = 2.1, 0.6, 2.6: dW = (5.3, 0), db = 3.
    CHECK(p[2].second.grad()(0, 0) == doctest::Approx(5.3f));
    CHECK(row(rows, "2").grad_norm == doctest::Approx(std::sqrt(5.3 * 5.3 + 9.0)).epsilon(1e-5));
}

TEST_CASE("audit counts a ReLU unit dead for the whole batch, and sigmoids past |z| = 4") {
    auto net = relu_net();
    nn::AuditWatch watch(*net);
    sum((*net)(batch_x)).backward();
    CHECK(row(nn::audit(*net), "1").dead == 0.5);  // unit 1 of 2

    // z = 1, 2, 5, 10: two of four beyond |z| = 4.
    auto s = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(1, 4), std::make_shared<nn::Sigmoid>());
    s->named_parameters()[0].second.mutable_value() = Tensor::from({1.0f, 2.0f, 5.0f, 10.0f}, {4, 1}).value();
    s->named_parameters()[1].second.mutable_value() = Array{0.0f, 0.0f, 0.0f, 0.0f};
    nn::AuditOptions options;
    options.activations = 0.4;
    nn::AuditWatch sigmoid_watch(*s, options);
    sum((*s)(Tensor::from({1.0f}, {1, 1}))).backward();
    const auto rows = nn::audit(*s);
    CHECK(row(rows, "1").saturated == 0.5);
    CHECK(row(rows, "1").flag == "saturated");  // above 0.4
}

TEST_CASE("audit's update ratio is the last optimizer step over the weights, before or after it") {
    auto net = relu_net();
    nn::AuditWatch watch(*net);
    optim::SGD sgd(net->parameters(), optim::SGDOptions(0.1));
    auto step = [&] {
        sgd.zero_grad();
        sum((*net)(batch_x)).backward();
    };
    step();
    CHECK(std::isnan(row(nn::audit(*net), "2").update_ratio));  // no step yet
    const Array w_before = net->named_parameters()[2].second.value();
    const Array g = net->named_parameters()[2].second.grad();
    const Array b_g = net->named_parameters()[3].second.grad();
    sgd.step();
    // After the step: |0.1 g| / |w after|, over weight and bias together.
    const Array w = net->named_parameters()[2].second.value();
    const Array b = net->named_parameters()[3].second.value();
    const double change = 0.1 * std::sqrt(double(g(0, 0)) * g(0, 0) + double(g(0, 1)) * g(0, 1) + double(b_g(0)) * b_g(0));
    const double norm = std::sqrt(double(w(0, 0)) * w(0, 0) + double(w(0, 1)) * w(0, 1) + double(b(0)) * b(0));
    CHECK(row(nn::audit(*net), "2").update_ratio == doctest::Approx(change / norm).epsilon(1e-5));
    // The next forward and backward, before its step: the same last step.
    step();
    CHECK(row(nn::audit(*net), "2").update_ratio == doctest::Approx(change / norm).epsilon(1e-5));
    CHECK(w_before(0, 0) != w(0, 0));
}

TEST_CASE("audit leaves evaluation out and fills only gradients without a watch") {
    auto net = relu_net();
    {
        nn::AuditWatch watch(*net);
        sum((*net)(batch_x)).backward();
        {
            NoGrad evaluating;  // every unit alive on this input: must not replace the batch's
            (*net)(Tensor(Array{{-5.0f, -5.0f}}));
        }
        CHECK(row(nn::audit(*net), "1").dead == 0.5);
    }
    const auto rows = nn::audit(*net);
    CHECK(std::isnan(row(rows, "1").dead));
    CHECK(std::isnan(row(rows, "0").update_ratio));
    CHECK(row(rows, "0").grad_norm > 0);
}

TEST_CASE("audit flags vanishing and exploding gradients against the weights") {
    auto net = relu_net();
    (sum((*net)(batch_x)) * 1e-9f).backward();
    CHECK(row(nn::audit(*net), "2").flag == "vanishing");
    net->zero_grad();
    (sum((*net)(batch_x)) * 1e3f).backward();
    CHECK(row(nn::audit(*net), "2").flag == "exploding");
    std::ostringstream text;
    nn::print_audit(text, nn::audit(*net));
    CHECK(text.str().find("exploding") != std::string::npos);
    const std::string csv = nn::audit_csv(nn::audit(*net), 7);
    CHECK(csv.rfind("7,0,Linear,6,", 0) == 0);
    CHECK(csv.find("\n7,1,ReLU,0,,,,,,\n") != std::string::npos);  // no watch: no statistics
}
