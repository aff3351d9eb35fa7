#include "plot.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <tapegrad/data/formats/file.hpp>

namespace mnist {

using examples::EpochMetrics;
using tapegrad::write_file_atomic;

void plot(const std::string& path, const std::vector<std::string>& names,
          const std::vector<std::vector<EpochMetrics>>& runs) {
    if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
        std::cout << "(--plot skipped: gnuplot is not installed; apt-get install gnuplot-nox)\n";
        return;
    }
    const std::string data = path + ".dat", script = path + ".gp";
    {
        std::ostringstream out;
        for (std::size_t r = 0; r < runs.size(); ++r) {
            out << "# " << names[r] << "\n";
            for (const EpochMetrics& m : runs[r]) out << m.epoch << ' ' << 100 * m.test_accuracy << '\n';
            out << "\n\n";
        }
        write_file_atomic(data, out.str(), "--plot");
        std::ostringstream gp;
        gp << "set terminal pngcairo size 800,500\nset output '" << path << "'\n"
           << "set title 'MNIST test accuracy per epoch: squared error vs cross-entropy'\n"
           << "set xlabel 'epoch'\nset ylabel 'test accuracy (%)'\nset key bottom right\n"
           << "set grid\nplot ";
        for (std::size_t r = 0; r < runs.size(); ++r)
            gp << (r ? ", " : "") << "'" << data << "' index " << r
               << " with linespoints lw 2 title '" << names[r] << "'";
        gp << "\n";
        write_file_atomic(script, gp.str(), "--plot");
    }
    const int code = std::system(("gnuplot '" + script + "'").c_str());
    std::remove(data.c_str());
    std::remove(script.c_str());
    if (code != 0) throw std::runtime_error("--plot: gnuplot failed to draw " + path);
    std::cout << "plotted " << path << "\n";
}

}  // namespace mnist
