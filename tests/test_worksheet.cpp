#include <cmath>

#include "helpers.hpp"

#include "worksheet.hpp"

using namespace tapegrad;

namespace {

std::vector<Array> parameters_of(const worksheet::Worksheet& w) {
    Array W2 = w.W2;
    W2.reshape({std::size_t(1), w.spec.hidden});
    return {w.W1, w.b1, W2, Array(xt::xarray<float>({w.b2}))};
}

}  // namespace

// Every worksheet's key: the gradients pass gradcheck (float32 differences, h = 1e-3), and the
// key's chain is its own arithmetic: each product in section 3 and 4 from the numbers before it.
TEST_CASE("every worksheet's key holds against finite differences and its own chain") {
    for (const char* network : {"2-2-1", "1-1-1", "3-2-1", "2-4-1"})
        for (const char* loss : {"squared", "cross_entropy"})
            for (std::uint64_t seed : {1, 2, 3, 7, 42}) {
                worksheet::Spec spec = worksheet::parse_network(network);
                spec.loss = loss;
                spec.seed = seed;
                const worksheet::Worksheet w = worksheet::make(spec);
                CAPTURE(network);
                CAPTURE(loss);
                CAPTURE(seed);
                const auto f = [&](const std::vector<Tensor>& p) { return worksheet::loss_of(w, p); };
                const GradcheckResult check = gradcheck(f, parameters_of(w));
                CHECK_MESSAGE(check.ok, check.message);
                // The key's gradients are the engine's gradients of that same function.
                std::vector<Tensor> p;
                for (const Array& a : parameters_of(w)) p.emplace_back(a, true);
                f(p).backward();
                CHECK(w.L == doctest::Approx(f(p).item()));
                for (std::size_t j = 0; j < spec.hidden; ++j) {
                    CHECK(w.dW2(j) == p[2].grad()(0, j));
                    CHECK(w.db1(j) == p[1].grad()(j));
                    for (std::size_t k = 0; k < spec.inputs; ++k) CHECK(w.dW1(j, k) == p[0].grad()(j, k));
                }
                CHECK(w.db2 == p[3].grad()(0));
                // The chain, as the worksheet writes it.
                const double a = w.a, y = w.y;
                CHECK(w.dL_da == doctest::Approx(spec.loss == std::string("squared") ? 2 * (a - y) : (a - y) / (a * (1 - a))).epsilon(1e-4));
                CHECK(w.da_dz2 == doctest::Approx(a * (1 - a)).epsilon(1e-5));
                CHECK(w.dL_dz2 == doctest::Approx(double(w.dL_da) * w.da_dz2).epsilon(1e-4));
                for (std::size_t j = 0; j < spec.hidden; ++j) {
                    CHECK(w.dh_dz1(j) == doctest::Approx(double(w.h(j)) * (1 - w.h(j))).epsilon(1e-5));
                    CHECK(w.dL_dh(j) == doctest::Approx(double(w.dL_dz2) * w.W2(j)).epsilon(1e-5));
                    CHECK(w.dL_dz1(j) == doctest::Approx(double(w.dL_dh(j)) * w.dh_dz1(j)).epsilon(1e-4));
                    CHECK(w.dW2(j) == doctest::Approx(double(w.dL_dz2) * w.h(j)).epsilon(1e-5));
                    for (std::size_t k = 0; k < spec.inputs; ++k)
                        CHECK(w.dW1(j, k) == doctest::Approx(double(w.dL_dz1(j)) * w.x(k)).epsilon(1e-5));
                }
            }
}

TEST_CASE("a worksheet has a blank for every value its key fills") {
    worksheet::Spec spec = worksheet::parse_network("2-2-1");
    spec.seed = 5;
    const worksheet::Worksheet w = worksheet::make(spec);
    const std::string sheet = worksheet::markdown(w, false), key = worksheet::markdown(w, true);
    std::size_t blanks = 0;
    for (std::size_t at = sheet.find("| ______ |"); at != std::string::npos; at = sheet.find("| ______ |", at + 1)) ++blanks;
    // forward 2H + 3, local 2 + H, chain 1 + 2H, gradients H + 1 + HI + H: 7 + 4 + 5 + 9.
    CHECK(blanks == 25);
    CHECK(key.find("______") == std::string::npos);
    char loss[32];
    std::snprintf(loss, sizeof loss, "| L | (a - y)² | %.4g |", w.L);
    CHECK(key.find(loss) != std::string::npos);
    CHECK(worksheet::html(w, false).find("<td class=\"value\"></td>") != std::string::npos);
    // The same seed, the same numbers; another seed, others.
    CHECK(worksheet::markdown(worksheet::make(spec), true) == key);
    spec.seed = 6;
    CHECK(worksheet::markdown(worksheet::make(spec), true) != key);
}

TEST_CASE("a worksheet names a network or loss it cannot write") {
    CHECK_THROWS_WITH_AS(worksheet::parse_network("2-2"), doctest::Contains("INPUTS-HIDDEN-1"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(worksheet::parse_network("2-2-2"), doctest::Contains("one unit"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(worksheet::parse_network("9-2-1"), doctest::Contains("from 1 to 4"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(worksheet::parse_network("a-2-1"), doctest::Contains("--network a-2-1"), std::invalid_argument);
    worksheet::Spec spec;
    spec.loss = "hinge";
    CHECK_THROWS_WITH_AS(worksheet::make(spec), doctest::Contains("--loss hinge"), std::invalid_argument);
}
