#include "training.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace examples {

std::string format_number(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

std::string shortest(float v) {
    char buf[32];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

bool check_loss(double loss, const std::string& what, std::size_t epoch, std::size_t batch,
                std::size_t batches, float lr, bool keep_going) {
    if (std::isfinite(loss)) return true;
    if (!keep_going)
        throw std::runtime_error("training diverged: " + what + " is " + format_number(loss) +
                                 " at epoch " + std::to_string(epoch) + ", batch " +
                                 std::to_string(batch) + "/" + std::to_string(batches) +
                                 "; the learning rate (--lr " + format_number(lr) +
                                 ") is likely too high: lower it, or pass --keep-going-on-nan to "
                                 "train on regardless");
    return false;
}

std::string find_dataset(const std::string& name) {
    std::vector<std::filesystem::path> places;
    if (const char* env = std::getenv("TAPEGRAD_DATA"); env && *env)
        places.push_back(std::filesystem::path(env) / name);
    places.push_back(std::filesystem::path("datasets") / name);
    const std::filesystem::path repository = TAPEGRAD_SOURCE_DIR;  // set by examples/CMakeLists
    places.push_back(repository / "datasets" / name);
    std::error_code ec;
    for (const auto& place : places)
        if (std::filesystem::exists(place, ec)) return place.string();
    std::string looked;
    for (const auto& place : places) looked += "\n  " + place.string();
    throw std::runtime_error("cannot find the data set '" + name + "'; looked in:" + looked +
                             "\nfetch it with: bash " +
                             (repository / "scripts" / "fetch_data.sh").string() +
                             "\n(or set TAPEGRAD_DATA to the folder that holds it)");
}

}  // namespace examples
