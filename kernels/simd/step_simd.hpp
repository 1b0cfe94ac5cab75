// Vectorised household-year step (Highway, run-time instruction-set dispatch).
//
// step_year_simd computes exactly what the scalar reference kernel step_year
// (kernels/household_model.cpp) computes: the same block state, tallies and
// Gini histogram, bit for bit, on every instruction set. It evaluates the
// same IEEE operations in the same order lane by lane (detmath's branch-free
// exp/log/sincos as vector code, Philox on 64-bit lanes, Bernoulli draws as
// exact integer comparisons), takes the village sums that feed the model in
// household order, and adds tallies as integers (order-independent).
//
// The instruction set is chosen at run time (never at build time): "auto"
// picks the best one the CPU supports; the environment variable ARTEL_SIMD
// (read once, at first use) or set_simd_target overrides it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/random/philox.hpp"
#include "kernels/simd/draw_count.hpp"
#include "kernels/block.hpp"
#include "kernels/params.hpp"
#include "kernels/tallies.hpp"
#include "kernels/weather.hpp"

namespace artel::model {

// Same contract and results as step_year (no FlowLog), regional tallies
// included.
void step_year_simd(const Params& p, const Weather& w, std::int64_t t, BlockState& s, YearScratch& scratch,
                    Tally& tally, GiniHistogram& gini, RegionTally* regions = nullptr);

// Same contract and results as init_block (kernels/household_model.hpp), on
// the instruction set in use.
void init_block_simd(const Params& p, BlockState& s);

// Instruction-set choice: "auto" (best available), "avx3" (alias "avx512"),
// "avx2", "sse4", "ssse3", and the portable one-lane fallback "scalar" (aliases
// "scalar-simd", "emu128"). Throws std::invalid_argument for an unknown name
// or one the CPU (or this build) does not support. Applies to every thread.
void set_simd_target(const std::string& name);
// The instruction set in use (after resolving "auto"), e.g. "avx3".
std::string simd_target();
// Every instruction set usable here, best first (names as simd_target()).
std::vector<std::string> available_simd_targets();

namespace simd {

// Hooks for tests and benchmarks: the vector building blocks of the kernel,
// run on a named target ("" = the one in use). Results are bit-identical to
// their scalar counterparts (engine/random/philox.hpp, engine/math/detmath.hpp,
// engine/random/samplers.hpp).

// out[i] = philox4x32_10(ctr[i], key), computed lanes-wide.
void philox_blocks(const std::string& target, const rng::Key& key, const rng::Counter* ctr, rng::Block* out,
                   std::size_t n);

// The 4·n words of blocks 0..n-1 of the streams of households first, first+1,
// ... (one Philox block per household and block index, household-major:
// out[4·(h·blocks + b) + k] = word 4b + k of household first + h). This is
// how the kernel draws: one counter per lane, lanes = households.
void household_words(const std::string& target, const rng::Key& key, std::uint32_t rep, std::uint32_t first,
                     std::size_t households, std::uint32_t slot_purpose, std::uint32_t blocks,
                     std::uint32_t* out);
// uniform01 of the same words (4 per household and block).
void household_uniforms(const std::string& target, const rng::Key& key, std::uint32_t rep, std::uint32_t first,
                        std::size_t households, std::uint32_t slot_purpose, std::uint32_t blocks, double* out);
// normal_pair(w0, w1).z0 and .z1 of words (0, 1) and (2, 3) of each block.
void household_normals(const std::string& target, const rng::Key& key, std::uint32_t rep, std::uint32_t first,
                       std::size_t households, std::uint32_t slot_purpose, std::uint32_t blocks, double* out);

enum class MathFn : int {
    exp = 0,           // dmath::exp
    log = 1,           // dmath::log
    sin_2pi = 2,       // dmath::sincos_2pi, sine
    cos_2pi = 3,       // dmath::sincos_2pi, cosine
    one_minus_exp_neg = 4,
    normal_z0 = 5,     // rng::normal_pair(w0, w1).z0 with w0 = bits >> 32, w1 = low bits of in[i] (as uint64)
    to_fixed = 6,      // to_fixed(x) (result stored as a double holding the int64 bits)
    gini_bin = 7,      // gini_bin(x) (result as double)
    normal_z0_f = 8,   // fmath::normal_z0(w0, w1) (as double), words as for normal_z0
    exp_small_f = 9,   // fmath::exp_small(float(x)) (as double), |x| <= 87
    one_minus_exp_neg_f = 10,  // fmath::one_minus_exp_neg(float(x)) (as double)
};
// out[i] = f(in[i]) lanes-wide.
void math_lanes(const std::string& target, MathFn f, const double* in, double* out, std::size_t n);

// Households per vector (64-bit lanes) of a target.
std::size_t lanes_of(const std::string& target);

}  // namespace simd
}  // namespace artel::model
