#include "checkpoint.hpp"

#include <optional>
#include <stdexcept>

#include "../ops/random.hpp"

#include "../nn/serialize.hpp"

namespace tapegrad::optim {

namespace {

const std::string model_prefix = "model.", optimizer_prefix = "optimizer.",
                  scheduler_prefix = "scheduler.", extra_prefix = "extra.",
                  generator_entry = "random.generator";

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

void save(const std::string& path, const nn::Module& model, const Optimizer& optimizer,
          const LrScheduler* scheduler, const NamedTypedArrays& extra) {
    NamedTypedArrays arrays;
    for (auto& [name, value] : nn::parameter_arrays(model)) arrays.emplace_back(model_prefix + name, value);
    for (auto& [name, value] : optimizer.state()) arrays.emplace_back(optimizer_prefix + name, value);
    if (scheduler)
        for (auto& [name, value] : scheduler->state()) arrays.emplace_back(scheduler_prefix + name, value);
    for (const auto& [name, value] : extra) arrays.emplace_back(extra_prefix + name, value);
    arrays.emplace_back(generator_entry, text_array(generator_state()));
    save_npz(path, arrays);
}

NamedTypedArrays load(const std::string& path, nn::Module& model, Optimizer& optimizer,
                      LrScheduler* scheduler) {
    NamedArrays model_part;
    NamedTypedArrays optimizer_part, extra, scheduler_part;
    bool has_scheduler = false;
    std::optional<std::string> generator;
    // The model's arrays are float32, as they were saved (the optimizer checks its own).
    auto floats = [&path](const std::string& name, TypedArray& value) {
        if (auto* a = std::get_if<Array>(&value)) return std::move(*a);
        throw std::runtime_error("load_checkpoint: '" + path + "': entry '" + name + "' is " +
                                 dtype_name(dtype_of(value)) + ", but float32 is expected");
    };
    for (auto& [name, value] : load_npz(path)) {
        if (starts_with(name, model_prefix))
            model_part.emplace_back(name.substr(model_prefix.size()), floats(name, value));
        else if (starts_with(name, optimizer_prefix))
            optimizer_part.emplace_back(name.substr(optimizer_prefix.size()), std::move(value));
        else if (starts_with(name, scheduler_prefix)) {
            has_scheduler = true;
            scheduler_part.emplace_back(name.substr(scheduler_prefix.size()), std::move(value));
        } else if (name == generator_entry) {
            generator = array_text(value, "load_checkpoint: '" + path + "': " + name);
        } else if (starts_with(name, extra_prefix))
            extra.emplace_back(name.substr(extra_prefix.size()), std::move(value));
        else
            throw std::runtime_error("load_checkpoint: '" + path + "' has an entry '" + name +
                                     "' that is not model.*, optimizer.*, scheduler.*, random.generator or extra.*: is it a "
                                     "checkpoint (nn::save writes models only; use nn::load)?");
    }
    if (scheduler && !has_scheduler)
        throw std::runtime_error("load_checkpoint: '" + path + "' holds no scheduler state "
                                 "(it was saved without a scheduler)");
    // The model changes only if the optimizer's (and the scheduler's) state fits too: keep
    // what was there to put back.
    const NamedArrays model_before = nn::parameter_arrays(model);
    const State optimizer_before = optimizer.state();
    const State scheduler_before = scheduler ? scheduler->state() : State();
    nn::assign_parameters(model, model_part, "'" + path + "'");
    const char* part = "optimizer";
    try {
        optimizer.load_state(optimizer_part);
        part = "scheduler";
        if (scheduler) scheduler->load_state(scheduler_part);
        part = "random generator";
        if (generator) set_generator_state(*generator);
    } catch (const std::exception& e) {
        nn::assign_parameters(model, model_before);
        optimizer.load_state(optimizer_before);
        if (scheduler) scheduler->load_state(scheduler_before);
        throw std::runtime_error("load_checkpoint: '" + path + "': the " + part +
                                 " state does not fit: " + e.what());
    }
    return extra;
}

}  // namespace

void save_checkpoint(const std::string& path, const nn::Module& model, const Optimizer& optimizer,
                     const NamedTypedArrays& extra) {
    save(path, model, optimizer, nullptr, extra);
}

void save_checkpoint(const std::string& path, const nn::Module& model, const Optimizer& optimizer,
                     const LrScheduler& scheduler, const NamedTypedArrays& extra) {
    save(path, model, optimizer, &scheduler, extra);
}

NamedTypedArrays load_checkpoint(const std::string& path, nn::Module& model, Optimizer& optimizer) {
    return load(path, model, optimizer, nullptr);
}

NamedTypedArrays load_checkpoint(const std::string& path, nn::Module& model, Optimizer& optimizer,
                                 LrScheduler& scheduler) {
    return load(path, model, optimizer, &scheduler);
}

}  // namespace tapegrad::optim
