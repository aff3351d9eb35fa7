// --compare-losses --plot FILE.png: the test accuracy per epoch of each run, drawn by gnuplot.
#pragma once

#include <string>
#include <vector>

#include "../common/progress.hpp"

namespace mnist {

// Skips with a message when gnuplot is missing; throws when gnuplot fails.
void plot(const std::string& path, const std::vector<std::string>& names,
          const std::vector<std::vector<examples::EpochMetrics>>& runs);

}  // namespace mnist
