// tapegrad: reverse-mode automatic differentiation on a tape. One include for everything.
// Start reading at core/tape.hpp: its opening comment explains how backward() works.
#pragma once

#include "core/runtime/blas.hpp"
#include "core/runtime/memory.hpp"
#include "core/runtime/parallel.hpp"
#include "core/inspect/gradcheck.hpp"
#include "core/tape.hpp"
#include "core/tensor.hpp"
#include "core/inspect/graph.hpp"
#include "core/inspect/trace.hpp"

#include "ops/activation.hpp"
#include "ops/conv.hpp"
#include "ops/create.hpp"
#include "ops/elementwise.hpp"
#include "ops/index.hpp"
#include "ops/loss.hpp"
#include "ops/matmul.hpp"
#include "ops/norm.hpp"
#include "ops/pool.hpp"
#include "ops/random.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"

#include "nn/init.hpp"
#include "nn/layers.hpp"
#include "nn/loss_registry.hpp"
#include "nn/module.hpp"
#include "nn/serialize.hpp"

#include "optim/adam.hpp"
#include "optim/checkpoint.hpp"
#include "optim/optimizer.hpp"
#include "optim/sgd.hpp"

#include "data/formats/csv.hpp"
#include "data/dataloader.hpp"
#include "data/formats/file.hpp"
#include "data/formats/idx.hpp"
#include "data/mnist.hpp"
#include "data/formats/pgm.hpp"
