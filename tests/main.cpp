// doctest's main, and a listener that gives every test case the same start: an empty tape on
// the main thread and the default thread count, whatever the test case before it left behind.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <thread>

#include <tapegrad/tapegrad.hpp>

namespace {

struct FreshStart : doctest::IReporter {
    explicit FreshStart(const doctest::ContextOptions&) {}
    void test_case_start(const doctest::TestCaseData&) override {
        tapegrad::Tape::current().clear();
        const unsigned cores = std::thread::hardware_concurrency();
        tapegrad::set_num_threads(cores == 0 ? 1 : static_cast<int>(cores));
    }
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats&) override {}
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};

}  // namespace

DOCTEST_REGISTER_LISTENER("fresh_start", 1, FreshStart);
