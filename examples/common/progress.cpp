#include "progress.hpp"

#include <unistd.h>

#include <tapegrad/data/formats/file.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace examples {

Progress::Progress(std::string label, std::size_t total, std::size_t batch_size)
    : label_(std::move(label)),
      total_(total),
      batch_size_(batch_size),
      terminal_(isatty(STDOUT_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double Progress::seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(std::size_t done, float loss) {
    const auto now = std::chrono::steady_clock::now();
    // A terminal gets a redraw at most 10 times a second; a log gets a line every 10 %.
    const bool last = done == total_;
    if (terminal_) {
        if (!last && now - last_draw_ < std::chrono::milliseconds(100)) return;
    } else {
        const std::size_t step = std::max<std::size_t>(1, total_ / 10);
        if (!last && done % step != 0) return;
    }
    last_draw_ = now;
    const double elapsed = seconds();
    const double rate = elapsed > 0 ? static_cast<double>(done * batch_size_) / elapsed : 0.0;
    const double left = done > 0 ? elapsed * static_cast<double>(total_ - done) / done : 0.0;
    std::ostringstream line;
    line << label_ << " " << std::setw(4) << done << "/" << total_;
    if (terminal_) {
        const int width = 24;
        const int filled = static_cast<int>(width * done / std::max<std::size_t>(total_, 1));
        line << " [" << std::string(filled, '#') << std::string(width - filled, '.') << "]";
    }
    line << "  loss " << std::fixed << std::setprecision(4) << loss << "  "
         << std::setprecision(0) << rate << " img/s  ETA " << format_seconds(left);
    if (terminal_)
        std::cout << "\r\033[K" << line.str() << std::flush;
    else
        std::cout << line.str() << std::endl;  // a log someone may be tailing
}

void Progress::finish() {
    if (terminal_) std::cout << "\r\033[K" << std::flush;
}

std::string format_seconds(double seconds) {
    std::ostringstream out;
    if (seconds < 60) {
        out << std::fixed << std::setprecision(1) << seconds << "s";
    } else {
        const long s = std::lround(seconds);
        out << s / 60 << "m " << std::setw(2) << std::setfill('0') << s % 60 << "s";
    }
    return out.str();
}

void write_metrics(const std::string& path, const std::vector<EpochMetrics>& rows) {
    std::ostringstream out;
    out << "epoch,train_loss,test_loss,test_accuracy,seconds,images_per_second\n";
    for (const EpochMetrics& m : rows)
        out << m.epoch << ',' << std::setprecision(6) << m.train_loss << ',' << m.test_loss << ','
            << m.test_accuracy << ',' << std::fixed << std::setprecision(3) << m.seconds << ','
            << std::setprecision(1) << m.images_per_second << std::defaultfloat << '\n';
    tapegrad::write_file_atomic(path, out.str(), "--metrics");
}

}  // namespace examples
