// A backprop worksheet (worksheet.hpp): the exercise, or with --answers its key.
//
//   worksheet --network 2-2-1 --loss squared --seed 3                 Markdown on stdout
//   worksheet --network 2-2-1 --loss cross_entropy --seed 3 --answers the key
//   worksheet ... --html -o sheet.html                                a page to print
#include <CLI/CLI.hpp>

#include <iostream>

#include "worksheet.hpp"

int main(int argc, char** argv) {
    std::string network = "2-2-1", loss = "squared", output;
    std::uint64_t seed = 1;
    bool answers = false, as_html = false;
    CLI::App app{"Write a backprop worksheet: a small network with concrete numbers and blanks"};
    app.add_option("--network", network, "INPUTS-HIDDEN-1, inputs and hidden units from 1 to 4")->capture_default_str();
    app.add_option("--loss", loss, "squared or cross_entropy")->capture_default_str();
    app.add_option("--seed", seed, "draws the numbers: the same seed gives the same worksheet")->capture_default_str();
    app.add_flag("--answers", answers, "write the key, computed by tapegrad's engine");
    app.add_flag("--html", as_html, "write an HTML page (to print) instead of Markdown");
    app.add_option("-o,--output", output, "write to this file (default: stdout)");
    CLI11_PARSE(app, argc, argv);
    try {
        worksheet::Spec spec = worksheet::parse_network(network);
        spec.loss = loss;
        spec.seed = seed;
        const worksheet::Worksheet w = worksheet::make(spec);
        const std::string text = as_html ? worksheet::html(w, answers) : worksheet::markdown(w, answers);
        if (output.empty()) std::cout << text;
        else {
            tapegrad::write_file_atomic(output, text, "worksheet");
            std::cout << "wrote " << output << "\n";
        }
    } catch (const std::exception& e) {
        std::cerr << "worksheet: " << e.what() << "\n";
        return 1;
    }
}
