// Command-line checks the examples share (CLI11).
#pragma once

#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

namespace examples {

// A number above 0 ("--lr 0" and "--lr -1" are refused with CLI11's message and status).
inline CLI::Validator positive() {
    return CLI::Validator(
        [](std::string& s) {
            return std::strtod(s.c_str(), nullptr) > 0 ? "" : "must be above 0, got " + s;
        },
        "> 0");
}

}  // namespace examples
