// The cost of summing gradients over the processes of an MPI job, as distributed::GradReducer does it,
// for gradient sizes from 4 bytes to 4 MB (the CNN's 81 KB and the ReLU MLP's 1.1 MB among them),
// in both reductions. Run under mpirun; rank 0 prints one JSON line per size and reduction, then
// the fit of time = latency + bytes / bandwidth (least squares of the relative error):
//
//   mpirun -np 2 --oversubscribe --bind-to none build-bench/bench/dist_bench [--reps 30]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <tapegrad/distributed/distributed.hpp>
#include <tapegrad/tapegrad.hpp>

using namespace tapegrad;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    distributed::Session session(argc, argv);
    std::size_t reps = 30;
    for (int i = 1; i + 1 < argc; ++i)
        if (std::string(argv[i]) == "--reps") reps = std::strtoul(argv[i + 1], nullptr, 10);
    const std::vector<std::size_t> sizes{1, 256, 4096, 20'325, 65'536, 269'322, 1'048'576};
    for (const auto reduction : {distributed::SumOrder::ordered, distributed::SumOrder::allreduce}) {
        const char* name = reduction == distributed::SumOrder::ordered ? "ordered" : "allreduce";
        std::vector<double> xs, ys;
        for (std::size_t floats : sizes) {
            Tensor p(xt::zeros<float>({floats}), true);
            distributed::GradReducer reducer(session, {p}, distributed::ReducerOptions{SIZE_MAX, reduction});
            std::vector<double> seconds;
            for (std::size_t r = 0; r <= reps; ++r) {
                session.barrier();
                const auto t0 = std::chrono::steady_clock::now();
                reducer.reduce_zeros();
                const double s =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                if (r > 0) seconds.push_back(s);  // the first warms up
            }
            // The slowest rank's median is the step's cost.
            double worst = 0;
            for (double m : session.all_gather(median(seconds))) worst = std::max(worst, m);
            xs.push_back(4.0 * static_cast<double>(floats));
            ys.push_back(worst);
            if (session.rank() == 0)
                std::cout << "{\"reduction\": \"" << name << "\", \"ranks\": " << session.size()
                          << ", \"bytes\": " << 4 * floats << ", \"median_us\": " << worst * 1e6
                          << "}" << std::endl;
        }
        // time = a + b * bytes, least squares of the relative error (weights 1 / time^2), so
        // that the small sizes set the latency and the large ones the bandwidth.
        double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (std::size_t i = 0; i < xs.size(); ++i) {
            const double w = 1.0 / (ys[i] * ys[i]);
            sw += w; sx += w * xs[i]; sy += w * ys[i];
            sxx += w * xs[i] * xs[i]; sxy += w * xs[i] * ys[i];
        }
        const double b = (sw * sxy - sx * sy) / (sw * sxx - sx * sx), a = (sy - b * sx) / sw;
        if (session.rank() == 0)
            std::cout << "{\"reduction\": \"" << name << "\", \"ranks\": " << session.size()
                      << ", \"fit\": \"latency + bytes / bandwidth\", \"latency_us\": " << a * 1e6
                      << ", \"bandwidth_GB_per_s\": " << 1e-9 / b << "}" << std::endl;
    }
    return 0;
}
