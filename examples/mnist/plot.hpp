// --compare-losses --plot FILE.png: the test accuracy per epoch of each run, drawn by gnuplot.
// --audit FILE.csv --plot FILE.png: the gradient audit, per layer over the steps.
#pragma once

#include <string>
#include <vector>

#include "../common/progress.hpp"

namespace mnist {

// Skips with a message when gnuplot is missing; throws when gnuplot fails.
void plot(const std::string& path, const std::vector<std::string>& names,
          const std::vector<std::vector<examples::EpochMetrics>>& runs);

// Left: each layer's gradient norm (log scale); right: the fraction of dead ReLU units or
// saturated sigmoids of each activation layer. From the CSV --audit wrote.
void plot_audit(const std::string& path, const std::string& csv, const std::string& title);

}  // namespace mnist
