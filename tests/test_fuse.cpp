// nn::fuse and the fused layers: the same values, gradients and running statistics as the layers
// they stand for, one record on the tape, and the unfused model's names.
#include "helpers.hpp"

#include <limits>

using namespace tapegrad;

TEST_CASE("nn::fuse runs ReLU then MaxPool2D(2) as one op with the two layers' values and gradients") {
    // Values around 0 with ties, a NaN, odd sizes (a row and a column left over).
    Array x = xt::floor(test::random_array({2, 3, 7, 9}, -3.0f, 3.0f, 31)) / 2.0f;
    x(1, 2, 3, 4) = std::numeric_limits<float>::quiet_NaN();
    const Array w = test::random_array({2, 3, 3, 4}, -1.0f, 1.0f, 32);  // weights the outputs
    nn::Sequential plain{nn::ReLU(), nn::MaxPool2D(2)};
    Tape::current().clear();
    plain(Tensor(x, true));  // unfused, the tape shows the two layers
    CHECK(Tape::current().size() == 2);
    const auto fused = nn::fuse(plain);
    Tape::current().clear();
    Tensor a(x, true);
    const Tensor ya = (*fused)(a);
    CHECK(Tape::current().size() == 1);
    CHECK(std::string(Tape::current()[0].op) == "relu_max_pool2d");
    sum(ya * Tensor(w)).backward();
    Tensor b(x, true);
    const Tensor yb = max_pool2d(relu(b), 2, 2);
    sum(yb * Tensor(w)).backward();
    CHECK(ya.value() == yb.value());
    CHECK(a.grad() == b.grad());
    // Other pools, and layers derived from ReLU, run as they are.
    const auto three = nn::fuse(nn::Sequential{nn::ReLU(), nn::MaxPool2D(nn::MaxPool2dOptions(3).stride(2))});
    Tape::current().clear();
    (*three)(Tensor(x, true));
    CHECK(Tape::current().size() == 2);
    CHECK(three->extra_repr().empty());
    struct Doubled : nn::ReLU {
        Tensor forward(const Tensor& t) override { return nn::ReLU::forward(t) * 2.0f; }
    };
    const auto derived = nn::fuse(nn::Sequential{std::make_shared<Doubled>(), nn::MaxPool2D(2)});
    CHECK((*derived)(Tensor(x)).value() == Array(yb.value() * 2.0f));
    // The layer by its name, in a model of one's own.
    nn::Sequential named{nn::ReLUMaxPool2D()};
    CHECK(named(Tensor(x)).value() == yb.value());
    // Twice differentiable, as the two ops are.
    const Array smooth = test::random_array({1, 2, 4, 6}, -1.0f, 1.0f, 33);
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return square(relu_max_pool2d(t[0])); }, {smooth}));
}

TEST_CASE("nn::fuse runs BatchNorm2D, ReLU and MaxPool2D(2) in training as one op with the three layers' values and gradients") {
    struct Restore {
        int threads = num_threads();
        ~Restore() { set_num_threads(threads); }
    } restore;
    // Odd sizes (a row and a column left over); at 2 threads the larger case splits its channels.
    for (const Shape& shape : {Shape{3, 4, 7, 9}, Shape{2, 16, 64, 64}})
        for (int threads : {1, 2}) {
            CAPTURE(shape_str(shape));
            CAPTURE(threads);
            set_num_threads(threads);
            const Array x = test::random_array(shape, -3.0f, 3.0f, 41);
            const std::size_t c = shape[1];
            auto make_bn = [c] {
                auto bn = std::make_shared<nn::BatchNorm2D>(c);
                bn->weight.mutable_value() = test::random_array({c}, -1.5f, 1.5f, 42);
                bn->bias.mutable_value() = test::random_array({c}, -0.5f, 0.5f, 43);
                bn->running_mean.mutable_value() = test::random_array({c}, -1.0f, 1.0f, 44);
                return bn;
            };
            auto bn_a = make_bn(), bn_b = make_bn();
            const auto fused_model = nn::fuse(nn::Sequential{bn_a, nn::ReLU(), nn::MaxPool2D(2)});
            nn::Sequential& fused = *fused_model;
            Tape::current().clear();
            Tensor a(x, true);
            const Tensor ya = fused(a);
            CHECK(Tape::current().size() == 1);
            CHECK(std::string(Tape::current()[0].op) == "batch_norm_relu_max_pool2d");
            const Array w = test::random_array(ya.shape(), -1.0f, 1.0f, 45);  // weights the outputs
            sum(ya * Tensor(w)).backward();
            Tensor b(x, true);
            const Tensor yb = max_pool2d(relu((*bn_b)(b)), 2, 2);
            sum(yb * Tensor(w)).backward();
            CHECK(ya.value() == yb.value());
            CHECK(a.grad() == b.grad());
            CHECK(bn_a->weight.grad() == bn_b->weight.grad());
            CHECK(bn_a->bias.grad() == bn_b->bias.grad());
            CHECK(bn_a->running_mean.value() == bn_b->running_mean.value());
            CHECK(bn_a->running_var.value() == bn_b->running_var.value());
            CHECK(bn_a->num_batches_tracked.value() == bn_b->num_batches_tracked.value());
            // In evaluation the layers run one by one, with the running statistics.
            fused.eval();
            bn_b->eval();
            Tape::current().clear();
            CHECK(fused(Tensor(x)).value() == max_pool2d(relu((*bn_b)(Tensor(x))), 2, 2).value());
        }
    // The op without weight and bias, against the three ops.
    const Array x = test::random_array({2, 3, 6, 5}, -2.0f, 2.0f, 46);
    Tensor a(x, true), b(x, true);
    const Tensor ya = batch_norm_relu_max_pool2d(a, Tensor(), Tensor(), Tensor(), Tensor());
    const Tensor yb = max_pool2d(relu(batch_norm(b, Tensor(), Tensor(), Tensor(), Tensor(), true)), 2, 2);
    CHECK(ya.value() == yb.value());
    sum(square(ya)).backward();
    sum(square(yb)).backward();
    CHECK(a.grad() == b.grad());
    // Bad input is named as batch_norm names it.
    CHECK_THROWS_WITH_AS(batch_norm_relu_max_pool2d(a, Tensor(Array{0.0f}), Tensor(), Tensor(), Tensor()),
                         doctest::Contains("batch_norm: running_mean must have shape [3]"),
                         std::invalid_argument);
    // Twice differentiable, as the three ops are.
    const Array smooth = test::random_array({2, 2, 4, 4}, -1.0f, 1.0f, 47);
    const Array wt = test::random_array({2}, 0.5f, 1.5f, 48), bs = test::random_array({2}, -0.5f, 0.5f, 49);
    auto f = [](const std::vector<Tensor>& t) {
        return square(batch_norm_relu_max_pool2d(t[0], Tensor(), Tensor(), t[1], t[2]));
    };
    CHECK_GRAD(gradcheck(f, {smooth, wt, bs}));
    // A step of 1e-2: at gradgradcheck's 1e-3 the float32 rounding of the gradients, divided by
    // the step, is about its tolerance (errors 1.5e-3 with the fast path, 2.0e-3 with the tensor
    // form; 3e-4 for both at 1e-2, and no kink of relu or of the pool is crossed in between).
    GradcheckOptions wide;
    wide.eps = 1e-2;
    CHECK_GRADGRAD(gradgradcheck(f, {smooth, wt, bs}, wide));
}

TEST_CASE("a fused model shares the unfused model's layers, names and modes, and fuses Sequentials inside it") {
    auto bn = std::make_shared<nn::BatchNorm2D>(2);
    nn::Sequential inner{nn::Conv2D(nn::Conv2dOptions(2, 2, 3).padding(1)), nn::ReLU(), nn::MaxPool2D(2)};
    nn::Sequential model{nn::Conv2D(nn::Conv2dOptions(1, 2, 3).padding(1)), bn, nn::ReLU(), nn::MaxPool2D(2),
                         std::move(inner), nn::Flatten()};
    const auto fused = nn::fuse(model);
    // The same parameter and buffer tensors under the same names: a state_dict is the same.
    const auto pa = model.named_parameters(), pb = fused->named_parameters();
    REQUIRE(pa.size() == pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) {
        CHECK(pa[i].first == pb[i].first);
        CHECK(pa[i].second.node() == pb[i].second.node());
    }
    CHECK(model.named_buffers().size() == fused->named_buffers().size());
    CHECK(fused->extra_repr() == "fused: 1-3 as BatchNormReLUMaxPool2D");
    CHECK(fused->at<nn::Sequential>(4)->extra_repr() == "fused: 1-2 as ReLUMaxPool2D");
    const Array x = test::random_array({2, 1, 8, 8}, -1.0f, 1.0f, 61);
    Tape::current().clear();
    const Tensor y = (*fused)(Tensor(x));
    std::vector<std::string> ops;
    for (std::size_t i = 0; i < Tape::current().size(); ++i) ops.push_back(Tape::current()[i].op);
    CHECK(ops == std::vector<std::string>{"conv2d", "batch_norm_relu_max_pool2d", "conv2d",
                                          "relu_max_pool2d", "reshape"});
    CHECK(bn->num_batches_tracked.value()() == 1.0f);
    // eval() on the fused model reaches the shared BatchNorm2D, which then uses its statistics.
    fused->eval();
    CHECK(!bn->is_training());
    CHECK((*fused)(Tensor(x)).value() == model(Tensor(x)).value());
    // summary() lists the layers one by one.
    const std::string s = fused->summary({2, 1, 8, 8});
    CHECK(s.find("(BatchNorm2D)") != std::string::npos);
    CHECK(s.find("4.2 (MaxPool2D)") != std::string::npos);
    // Runs that cannot be: out of range, overlapping.
    CHECK_THROWS_WITH_AS(fused->run_as_one(5, 2, std::make_shared<nn::ReLU>()),
                         doctest::Contains("layers 5 to 7 are not a run"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(fused->run_as_one(2, 2, std::make_shared<nn::ReLU>()),
                         doctest::Contains("overlap"), std::invalid_argument);
}
