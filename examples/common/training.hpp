// What the training examples share besides the progress bar: how they print numbers, how they
// stop on a loss that is not finite, and where they find the data sets.
#pragma once

#include <cstddef>
#include <string>

namespace examples {

// "0.05", "1e+30", "nan": a number as the messages print it.
std::string format_number(double v);

// The shortest text that reads back as the same float: "0.05", not "0.0500000007".
std::string shortest(float v);

// Whether `loss` is finite. When it is not: throws "training diverged: <what> is <loss> at epoch
// E, batch B/N; the learning rate (--lr LR) is likely too high: ..." unless keep_going, in which
// case the caller warns and goes on. `what` names the loss: "the loss", "the log loss".
bool check_loss(double loss, const std::string& what, std::size_t epoch, std::size_t batch,
                std::size_t batches, float lr, bool keep_going);

// The folder or file `name` of the data sets scripts/fetch_data.sh fetches ("mnist",
// "breast_cancer.csv"), wherever the program runs from: $TAPEGRAD_DATA/name, then
// ./datasets/name, then the repository's datasets/name (the repository this program was built
// from). When none exists: an error that lists where it looked and the command that fetches it.
std::string find_dataset(const std::string& name);

}  // namespace examples
