#include "plot.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <tapegrad/data/formats/file.hpp>

namespace mnist {

using examples::EpochMetrics;
using tapegrad::write_file_atomic;

namespace {

// Runs gnuplot on the script, which draws `path` from `data`; removes both files.
void draw(const std::string& script, const std::string& data, const std::string& path) {
    const int code = std::system(("gnuplot '" + script + "'").c_str());
    std::remove(data.c_str());
    std::remove(script.c_str());
    if (code != 0) throw std::runtime_error("--plot: gnuplot failed to draw " + path);
    std::cout << "plotted " << path << "\n";
}

}  // namespace

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
    draw(script, data, path);
}

void plot_audit(const std::string& path, const std::string& csv, const std::string& title) {
    if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
        std::cout << "(--plot skipped: gnuplot is not installed; apt-get install gnuplot-nox)\n";
        return;
    }
    // Per layer, in the order of the file: (step, gradient norm) for those with parameters,
    // (step, dead or saturated fraction) for the activations.
    struct Series {
        std::string layer, type;
        bool activation = false;
        std::ostringstream points;
    };
    std::vector<Series> series;
    std::map<std::string, std::size_t> at;
    std::ifstream in(csv);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::istringstream fields(line);
        for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
        f.resize(10);
        auto [it, added] = at.emplace(f[1], series.size());
        if (added) {
            series.emplace_back();
            series.back().layer = f[1];
            series.back().type = f[2];
            series.back().activation = f[3] == "0";
        }
        Series& s = series[it->second];
        const std::string& value = s.activation ? (s.type == "ReLU" ? f[7] : f[8]) : f[4];
        if (!value.empty()) s.points << f[0] << ' ' << value << '\n';
    }
    const std::string data = path + ".dat", script = path + ".gp";
    std::ostringstream blocks, gp;
    for (const Series& s : series) blocks << "# " << s.layer << "\n" << s.points.str() << "\n\n";
    write_file_atomic(data, blocks.str(), "--plot");
    gp << "set terminal pngcairo size 1000,460 noenhanced\nset output '" << path << "'\nset key below\nset grid\n"
       << "set multiplot layout 1,2 title 'Gradient audit: " << title << "'\n"
       << "set xlabel 'step'\nset ylabel 'gradient norm'\nset logscale y\nset title 'each layer'\nplot ";
    std::string sep;
    for (std::size_t i = 0; i < series.size(); ++i)
        if (!series[i].activation) {
            gp << sep << "'" << data << "' index " << i << " with lines lw 2 title 'layer " << series[i].layer << " ("
               << series[i].type << ")'";
            sep = ", ";
        }
    gp << "\nunset logscale y\nset yrange [0:1]\nset ylabel 'fraction of units'\n"
       << "set title 'dead ReLUs, saturated sigmoids (|z| > 4)'\nplot ";
    sep.clear();
    for (std::size_t i = 0; i < series.size(); ++i)
        if (series[i].activation) {
            const bool relu = series[i].type == "ReLU";
            gp << sep << "'" << data << "' index " << i << " with lines lw 2 title '" << series[i].layer << " ("
               << series[i].type << (relu ? ", dead" : ", saturated") << ")'";
            sep = ", ";
        }
    if (sep.empty()) gp << "NaN title 'no activation layer seen'";
    gp << "\nunset multiplot\n";
    write_file_atomic(script, gp.str(), "--plot");
    draw(script, data, path);
}

}  // namespace mnist
