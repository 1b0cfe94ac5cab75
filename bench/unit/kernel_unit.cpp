// One work unit of the kernel, for counting instructions under callgrind
// (exact and independent of the load on a shared host, where times are not):
// the initial block of 20 villages × 100 households, then the five arms of
// configs/nep-1923.toml × 20 years from it, as BM_Scenario_2000hh_5arms_20y
// does, once. scripts/bench.sh runs it under
//   valgrind --tool=callgrind --toggle-collect='artel::model::simd_detail::N_AVX2::StepYear*'
// as `artel_kernel_unit avx2 [mechanism]` and divides the instructions by the
// 200 000 household-years.
//
// Usage: artel_kernel_unit TARGET [MECHANISM]
//   TARGET     an instruction set (avx3, avx2, sse4, ssse3, scalar) or
//              "reference" for the scalar reference kernel
//   MECHANISM  one mechanism switched off in every arm, or "all"
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "bench/bench_inputs.hpp"
#include "kernels/household_model.hpp"
#include "kernels/simd/step_simd.hpp"

using namespace artel::model;

int main(int argc, char** argv) try {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: %s TARGET|reference [MECHANISM|all]\n", argv[0]);
        return 2;
    }
    const std::string target = argv[1];
    const std::string off = argc > 2 ? argv[2] : "";
    auto arms = artel::bench::nep_arms();
    bool known = off.empty() || off == "all";
    for (auto& p : arms)
        for (const auto& [name, m] : artel::bench::kMechanisms)
            if (off == name || off == "all") p.mechanisms.*m = false, known = true;
    if (!known) {
        std::fprintf(stderr, "unknown mechanism '%s'\n", off.c_str());
        return 2;
    }
    const bool reference = target == "reference";
    if (!reference) set_simd_target(target);
    BlockState init, s;
    init.shape(0, 0, 20, 100);
    if (reference) init_block(arms[0], init); else init_block_simd(arms[0], init);
    YearScratch scratch;
    std::int64_t persons = 0;
    for (const auto& p : arms) {
        Weather w;
        draw_weather(p, 0, w);
        s.copy_from(init);
        for (std::int64_t t = 0; t < p.years; ++t) {
            Tally tally;
            GiniHistogram gini;
            if (reference) step_year(p, w, t, s, scratch, tally, gini);
            else step_year_simd(p, w, t, s, scratch, tally, gini);
            persons += tally[Count::births] - tally[Count::deaths];
        }
    }
    std::printf("%s%s%s: net change in persons over the unit %lld\n", target.c_str(), off.empty() ? "" : ", off: ",
                off.c_str(), static_cast<long long>(persons));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "artel_kernel_unit: %s\n", e.what());
    return 1;
}
