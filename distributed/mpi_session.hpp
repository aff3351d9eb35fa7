// What distributed/session.cpp and distributed/reducer.cpp share: the Session's MPI state and the checked,
// bounded wait. Only distributed/*.cpp includes this (and so <mpi.h>); it is not installed.
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

#include "distributed.hpp"

namespace tapegrad::distributed {

struct Session::Impl {
    MPI_Comm comm = MPI_COMM_NULL;
    bool finalize = false;  // this Session called MPI_Init
    int rank = 0, size = 1, local_rank = 0, local_size = 1;
    double timeout = 300;
    double waited = 0;

    // Throws std::runtime_error naming `what` and MPI's message when err is not MPI_SUCCESS.
    void check(int err, const std::string& what) const;
    // Until every request is complete, polling; past the timeout the job ends (abort), since
    // another rank has stopped or hangs.
    void wait(std::vector<MPI_Request>& requests, const std::string& what);
    [[noreturn]] void abort(const std::string& message, int code) const;
};

}  // namespace tapegrad::distributed
