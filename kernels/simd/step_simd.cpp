// The vectorised household-year step: step_year (kernels/household_model.cpp)
// lane by lane, one household per 32-bit lane (the household state is float,
// docs/model.md), compiled once per instruction set by Highway's
// foreach_target and chosen at run time. What the model keeps in double
// (village quantities, probabilities met by words, fixed-point tallies) is
// computed on the same households as two double-lane vectors ("halves").
//
// How it stays bit-identical to the scalar kernel:
//  - Every float and double is computed by the same IEEE operations in the
//    same order (detmath-inl.h; selects for branches; no FMA:
//    -ffp-contract=off).
//  - Random words come from the same Philox counters (philox-inl.h); a
//    Bernoulli draw with a probability fixed across lanes is the exact integer
//    test w < T(p) (engine/random/threshold.hpp), one with a lane probability compares
//    uniform01(w) < p in double as the scalar code does.
//  - Village sums that feed the model (the levy, ΣD, the reserve drawn) are
//    added lane by lane in household order; lanes that the scalar code skips
//    contribute +0.0, which leaves such a sum unchanged.
//  - Tallies are integers (to_fixed per addend), so their order does not
//    matter.
//  - A village's households are processed in two passes: steps 3 and 4(a)
//    (which end in the village sums ΣD and the levy), then steps 4(b)–10 and
//    the end-of-year stocks, fused per vector of households. Villages are
//    independent within a year, so each village is finished before the next,
//    as in the scalar kernel.
//  - A vector that would run past the village's households works on a padded
//    copy whose extra lanes are dissolved households (size 0), which every
//    step skips.

#include "kernels/simd/step_simd.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <type_traits>

#include "engine/math/detmath.hpp"
#include "engine/random/samplers.hpp"
#include "engine/random/streams.hpp"
#include "engine/random/threshold.hpp"
#include "kernels/household_model.hpp"
#include "kernels/purposes.hpp"
#include "kernels/village.hpp"

#ifndef ARTEL_KERNELS_SIMD_STEP_SIMD_ONCE
#define ARTEL_KERNELS_SIMD_STEP_SIMD_ONCE
namespace artel::model::simd_detail {

using StepFn = void (*)(const Params&, const Weather&, std::int64_t, BlockState&, YearScratch&, Tally&,
                        GiniHistogram&, RegionTally*);
using InitFn = void (*)(const Params&, BlockState&);
using PhiloxBlocksFn = void (*)(const rng::Key&, const rng::Counter*, rng::Block*, std::size_t);
using HouseholdFn = void (*)(const rng::Key&, std::uint32_t, std::uint32_t, std::size_t, std::uint32_t,
                             std::uint32_t, void*);
using MathFnPtr = void (*)(int, const double*, double*, std::size_t);
using LanesFn = std::size_t (*)();

// Tests k = 0 and k = 1 of an inversion X = #{k : w >= T_n,k} (a binomial's
// thresholds, n = 0 … 16 trials) as 32-bit entries for in-register table
// lookups: e[n] = (T_n,k − 1) ^ 2^31, so that w >= T  <=>  (w ^ 2^31) > e[n]
// as signed 32-bit integers, for T in [1, 2^32]. ok is false if some T is 0
// (a probability of exactly 1), which this form cannot hold: the kernel then
// takes the exact 64-bit path.
struct Tests01 {
    static constexpr int kRows = 17;
    alignas(64) std::int32_t e0[32]{}, e1[32]{};  // padded to whole vectors (AVX-512: 2 x 16)
    bool ok = false;
    static std::int32_t entry(std::int64_t t) {
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(t - 1) ^ 0x80000000u);
    }
    // from a rng::BinomialTable's thresholds T[17·n + k]
    void set_table(const std::int64_t* T) {
        static_assert(rng::BinomialTable::kStride == kRows);
        ok = true;
        for (int n = 0; n < kRows; ++n) {
            const std::int64_t a = T[kRows * n], b = T[kRows * n + 1];
            ok = ok && a >= 1 && b >= 1;
            e0[n] = entry(a);
            e1[n] = entry(b);
        }
    }
};

// Step 9's binomials of the village at hand (rng::BinomialSearch): the
// powers q^n of other households at [n] and of active members at [17 + n],
// side by side for one gather, and their ratios r = p / q.
struct LearnConst {
    static constexpr int kActive = rng::BinomialSearch::kStride;
    alignas(64) double qpow[2 * kActive + 16]{};  // (padded for whole-vector reads)
    double r_other, r_active;
    // the search's first two tests as thresholds of the word (uniform01(w) <
    // F  <=>  w < bernoulli_threshold(F), engine/random/threshold.hpp), set
    // by the kernel (LearnTests)
    Tests01 t_other, t_active;
    void set(double p_other, double p_active) {
        const rng::BinomialSearch other(p_other), active(p_active);
        std::copy_n(other.powers(), kActive, qpow);
        std::copy_n(active.powers(), kActive, qpow + kActive);
        r_other = other.ratio();
        r_active = active.ratio();
    }
};

// Per-thread scratch of the vector kernel, indexed by the household's place
// in its village (padded to whole vectors). Grows once, never shrinks.
struct VillageScratch {
    std::vector<float> shortfall;       // D after step 4(a)
    std::vector<float> E;               // household weather multiplier
    std::vector<std::uint32_t> hy2;     // HouseholdYear words 2 and 3 (birth, deaths of children)
    std::vector<std::uint32_t> hy3;
    std::vector<std::int32_t> coop_start;  // only for a village whose store closed in step 1
    std::vector<std::int32_t> gbin;        // Gini bin (kGiniBins: none)
    std::vector<std::int64_t> gfx;         // fixed-point wealth
    std::int64_t gfx_limit = 0;            // kFixedMax / the block's households
    bool gfx_large = false;                // some gfx of the village is above gfx_limit (or invalid)
    // Per village of the block: the organiser's word, V, thresholds, closing.
    std::vector<std::uint64_t> vword;
    std::vector<double> vV;
    std::vector<std::int64_t> vjoin;
    std::vector<double> vlearn_other, vlearn_active;  // step 9's learning probabilities
    std::vector<std::uint8_t> vclosed;
    LearnConst learn;
    Tests01 b_age, b_school, b_adult_death, b_child_death;  // step 5's binomials
    void reserve_villages(std::size_t nv) {
        if (vword.size() >= nv) return;
        vword.assign(nv, 0);
        vV.assign(nv, 1.0);
        vjoin.assign(nv, 0);
        vlearn_other.assign(nv, 0.0);
        vlearn_active.assign(nv, 0.0);
        vclosed.assign(nv, 0);
    }
    // The year's Gini histogram, with a spare last bin for dissolved lanes.
    std::vector<std::int64_t> gn, gsum;
    void reserve(std::size_t n) {
        if (gn.empty()) gn.assign(kGiniBins + 1, 0), gsum.assign(kGiniBins + 1, 0);
        if (shortfall.size() >= n) return;
        gbin.assign(n, kGiniBins);
        gfx.assign(n, 0);
        shortfall.assign(n, 0.0f);
        E.assign(n, 1.0f);
        hy2.assign(n, 0);
        hy3.assign(n, 0);
        coop_start.assign(n, 0);
    }
};

inline VillageScratch& village_scratch() {
    thread_local VillageScratch s;
    return s;
}

}  // namespace artel::model::simd_detail
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/step_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/simd/detmath-inl.h"
#include "kernels/simd/philox-inl.h"

HWY_BEFORE_NAMESPACE();
namespace artel {
namespace model {
namespace simd_detail {
namespace HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;
using namespace artel::vec::HWY_NAMESPACE;

constexpr std::size_t kMaxN = HWY_LANES(double);
// Double vectors processed together in phase E (independent dependency
// chains; 4 rather than 2 on AVX2 too: 13.2 against 11.9 M household-years/s,
// BM_StepYear_2000hh_sufficiency/avx2, medians of 6 alternated runs).
constexpr int kE = 4;
// Household vectors (float lanes) processed together in pass B: one (two
// ran 0.92x as fast, paired runs, docs/performance.md).
constexpr int kB = 1;

// Draw counting (draw_count.hpp): words read, lane-wise.
HWY_INLINE bool Counting() { return HWY_UNLIKELY(artel::model::simd::detail::counting()); }

// first, first + 1, ... (Highway's Iota goes through memory: a store-forwarding
// stall when `first` is not a constant).
HWY_INLINE VU Ids(std::uint64_t first) { return hn::Add(hn::Iota(DU(), 0), SetU(first)); }

// base[idx] lane by lane. On AVX2 by four scalar loads: vpgatherqq and
// vgatherqpd are slow on AMD Zen 3, and the kernel ran 1.05–1.07x faster
// without them (paired runs, docs/performance.md). AVX-512 keeps the gather
// (not measured here: the Zen 3 host has no AVX-512).
template <class D, typename T>
HWY_INLINE hn::Vec<D> Lookup(D d, const T* HWY_RESTRICT base, VI idx) {
#if HWY_TARGET == HWY_AVX2
    const __m256i v = idx.raw;
    const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
    const auto i0 = _mm_cvtsi128_si64(lo), i1 = _mm_extract_epi64(lo, 1);
    const auto i2 = _mm_cvtsi128_si64(hi), i3 = _mm_extract_epi64(hi, 1);
    if constexpr (std::is_same_v<T, double>) {
        return hn::Vec<D>{_mm256_setr_pd(base[i0], base[i1], base[i2], base[i3])};
    } else {
        return hn::Vec<D>{_mm256_setr_epi64x(base[i0], base[i1], base[i2], base[i3])};
    }
#else
    return hn::GatherIndex(d, base, idx);
#endif
}

// base[idx] and base[idx + 1] lane by lane. On AVX2 one 16-byte load per
// lane and two unpacks give both.
HWY_INLINE void Lookup2(const std::int64_t* HWY_RESTRICT base, VI idx, VI& v0, VI& v1) {
#if HWY_TARGET == HWY_AVX2
    const __m256i v = idx.raw;
    const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
    const auto i0 = _mm_cvtsi128_si64(lo), i1 = _mm_extract_epi64(lo, 1);
    const auto i2 = _mm_cvtsi128_si64(hi), i3 = _mm_extract_epi64(hi, 1);
    const auto ld = [&](std::int64_t i) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + i)); };
    const __m256i a02 = _mm256_inserti128_si256(_mm256_castsi128_si256(ld(i0)), ld(i2), 1);
    const __m256i a13 = _mm256_inserti128_si256(_mm256_castsi128_si256(ld(i1)), ld(i3), 1);
    v0 = VI{_mm256_unpacklo_epi64(a02, a13)};
    v1 = VI{_mm256_unpackhi_epi64(a02, a13)};
#else
    const DI di;
    v0 = Lookup(di, base, idx);
    v1 = Lookup(di, base, hn::Add(idx, SetI(1)));
#endif
}

// Binomial(n, p) by inversion of the word w (engine/random/binomial_table.hpp):
// the number of k with w >= T[n·17 + k], T the table's thresholds, read from
// each lane's row T + row (row = 17·n). T is non-decreasing in k, and
// T[17·n + k] = 2^32 for k ≥ n, above every word.
// Tests k = 0 and 1 are made without a branch, from one Lookup2: where some
// lane of a vector often passes test 0 (a death, a child coming of age), a
// branch on it is often mispredicted. Further tests, needed only where some
// lane has X ≥ 2 (rare at the model's probabilities), are behind one branch.
// Tests past a lane's X add nothing to it. 1.036x the kernel's speed against
// one branch per test from k = 0 or 1 (paired median of 40, quartiles
// 1.013–1.057; docs/performance.md).
HWY_INLINE VI BinomialAt(const std::int64_t* T, VI row, VU w) {
    const DI di;
    const VI w1 = hn::Add(hn::BitCast(di, w), SetI(1));  // w >= t  <=>  t < w + 1
    VI t0, t1;
    Lookup2(T, row, t0, t1);
    MI m = hn::Lt(t1, w1);
    VI x = hn::Sub(hn::Zero(di), hn::Add(hn::VecFromMask(di, hn::Lt(t0, w1)), hn::VecFromMask(di, m)));
    if (HWY_UNLIKELY(!hn::AllFalse(di, m))) {
        // the loop ends by k = n ≤ 16 (T[17·n + n] = 2^32)
        VI idx = hn::Add(row, SetI(2));
        for (;;) {
            m = hn::Lt(Lookup(di, T, idx), w1);
            if (hn::AllFalse(di, m)) break;
            x = hn::Sub(x, hn::VecFromMask(di, m));
            idx = hn::Add(idx, SetI(1));
        }
    }
    return x;
}
// 17·n: row n of a binomial table.
HWY_INLINE VI BinomialRow(VI n) {
    static_assert(rng::BinomialTable::kStride == 17);
    return hn::Add(hn::ShiftLeft<4>(n), n);
}
HWY_INLINE VI Binomial(const std::int64_t* T, VI n, VU w) { return BinomialAt(T, BinomialRow(n), w); }

// Step 9: Binomial(n, learn) by inversion of the word w with a sequential
// search (rng::BinomialSearch::sample, lane-wise), learn the village's rate
// for active members in the lanes of `active` and for the others elsewhere.
// Pass B calls it only where its tests against LearnConst's tables cannot
// decide (two learners and more illiterates, or tables that 32 bits cannot
// hold).
HWY_INLINE VI LearnSearch(const LearnConst& lc, VI n, VU w, MF active) {
    const DF df;
    const DI di;
    const double* ratios = rng::BinomialSearch::ratios();
    const MI a = ToI(active);
    const VF uu = Uniform(w);
    VF f = Lookup(df, lc.qpow, hn::Add(n, hn::IfThenElseZero(a, SetI(LearnConst::kActive))));
    VF F = f;
    const VF r = Sel(active, SetF(lc.r_active), SetF(lc.r_other));
    // Steps 1 and 2 of the search without a branch and without gathers:
    // c(n, 0) = n and c(n, 1) = (n − 1)/2 are exact in double, hence equal to
    // ratios()'s entries where k < n (lanes at k ≥ n have stopped, whatever c
    // is).
    const VF nd = I2D(n);
    MI m = hn::And(ToI(hn::Ge(uu, F)), hn::Lt(hn::Zero(di), n));
    VI k = hn::VecFromMask(di, m);  // −1 where the search goes on
    f = hn::Mul(hn::Mul(f, r), nd);
    F = hn::Add(F, f);
    m = hn::And(m, hn::And(ToI(hn::Ge(uu, F)), hn::Lt(SetI(1), n)));
    k = hn::Add(k, hn::VecFromMask(di, m));
    f = hn::Mul(hn::Mul(f, r), hn::Mul(hn::Sub(nd, SetF(1.0)), SetF(0.5)));
    F = hn::Add(F, f);
    m = hn::And(m, hn::And(ToI(hn::Ge(uu, F)), hn::Lt(SetI(2), n)));
    k = hn::Sub(hn::Zero(di), k);  // steps passed: 0, 1 or 2
    if (HWY_UNLIKELY(!hn::AllFalse(di, m))) {
        VI idx = hn::Add(BinomialRow(n), SetI(2));
        do {
            f = hn::Mul(hn::Mul(f, r), Lookup(df, ratios, idx));
            F = hn::Add(F, f);
            k = hn::Sub(k, hn::VecFromMask(di, m));
            idx = hn::Add(idx, SetI(1));
            m = hn::And(m, hn::And(ToI(hn::Ge(uu, F)), hn::Lt(k, n)));
        } while (!hn::AllFalse(di, m));
    }
    return k;
}

// ---- single-precision household lanes ---------------------------------------
//
// Household state is float (docs/model.md, "The household state is single
// precision"), one household per 32-bit lane: 8 per AVX2 vector, 16 per
// AVX-512 vector, twice as many as double lanes. Namespace f32 redefines the
// vector vocabulary of detmath-inl.h (DF, DI, DU, SetF, SetI, Sel, ...) for
// 32-bit lanes, so that the steps read as before; what stays in double
// (binomial thresholds, the learning search, the activation hazard, famine
// draws, fixed-point tallies) goes through the "halves" below: a float-lane
// vector as kHalves double-lane vectors, exactly.
namespace dv = artel::vec::HWY_NAMESPACE;
namespace f32 {
using DF = hn::ScalableTag<float>;
using DI = hn::RebindToSigned<DF>;
using DU = hn::RebindToUnsigned<DF>;
using VF = hn::Vec<DF>;
using VI = hn::Vec<DI>;
using VU = hn::Vec<DU>;
using MF = hn::Mask<DF>;
using MI = hn::Mask<DI>;
constexpr std::size_t kMaxF = HWY_LANES(float);
#if HWY_TARGET == HWY_SCALAR
constexpr int kHalves = 1;
#else
constexpr int kHalves = 2;
#endif
static_assert(kMaxF == kHalves * kMaxN);

HWY_INLINE MF ToF(MI m) { return hn::RebindMask(DF(), m); }
HWY_INLINE MI ToI(MF m) { return hn::RebindMask(DI(), m); }
HWY_INLINE VF SetF(float x) { return hn::Set(DF(), x); }
HWY_INLINE VI SetI(std::int32_t x) { return hn::Set(DI(), x); }
HWY_INLINE VU SetU(std::uint32_t x) { return hn::Set(DU(), x); }
HWY_INLINE VF Sel(MF m, VF a, VF b) { return hn::IfThenElse(m, a, b); }
HWY_INLINE VI Sel(MI m, VI a, VI b) { return hn::IfThenElse(m, a, b); }
HWY_INLINE VI Sel(MF m, VI a, VI b) { return hn::IfThenElse(ToI(m), a, b); }
HWY_INLINE VU Sel(MF m, VU a, VU b) { return hn::IfThenElse(hn::RebindMask(DU(), m), a, b); }
HWY_INLINE VF I2F(VI v) { return hn::ConvertTo(DF(), v); }  // exact for |v| < 2^24
HWY_INLINE VI LoadI32(const std::int32_t* p) { return hn::LoadU(DI(), p); }
HWY_INLINE void StoreI32(VI v, std::int32_t* p) { hn::StoreU(v, DI(), p); }
HWY_INLINE VF Clip01(VF x) {
    const DF d;
    return Sel(hn::Lt(x, hn::Zero(d)), hn::Zero(d), Sel(hn::Gt(x, SetF(1.0f)), SetF(1.0f), x));
}
HWY_INLINE VF Max0(VF x) { return Sel(hn::Lt(hn::Zero(DF()), x), x, hn::Zero(DF())); }
// literate/adults, 0 where adults = 0 (household_model.cpp's literate_share)
HWY_INLINE VF LitShare(VI literate, VI adults) {
    const MI pos = hn::Gt(adults, hn::Zero(DI()));
    return Sel(ToF(pos), hn::Div(I2F(literate), I2F(adults)), hn::Zero(DF()));
}

// ---- halves: float lanes <-> double lanes, in household order ----
#if HWY_TARGET == HWY_SCALAR
HWY_INLINE void Halves(VF v, dv::VF* h) { h[0] = dv::SetF(static_cast<double>(hn::GetLane(v))); }
HWY_INLINE void Halves(VI v, dv::VI* h) { h[0] = dv::SetI(hn::GetLane(v)); }
HWY_INLINE void Halves(VU v, dv::VU* h) { h[0] = dv::SetU(hn::GetLane(v)); }
HWY_INLINE VI JoinI(const dv::VI* h) { return SetI(static_cast<std::int32_t>(hn::GetLane(h[0]))); }
HWY_INLINE MF JoinM(const dv::MF* h) { return hn::FirstN(DF(), hn::AllFalse(dv::DF(), h[0]) ? 0 : 1); }
#else
HWY_INLINE void Halves(VF v, dv::VF* h) { dv::Widen(v, h[0], h[1]); }
HWY_INLINE void Halves(VI v, dv::VI* h) {
    const hn::Half<DI> dh;
    h[0] = hn::PromoteTo(dv::DI(), hn::LowerHalf(dh, v));
    h[1] = hn::PromoteTo(dv::DI(), hn::UpperHalf(dh, v));
}
HWY_INLINE void Halves(VU v, dv::VU* h) {
    const hn::Half<DU> dh;
    h[0] = hn::PromoteTo(dv::DU(), hn::LowerHalf(dh, v));
    h[1] = hn::PromoteTo(dv::DU(), hn::UpperHalf(dh, v));
}
// int64 lanes with values in int32 range -> int32 lanes
HWY_INLINE VI JoinI(const dv::VI* h) {
    const DI d;
    return hn::ConcatEven(d, hn::BitCast(d, h[1]), hn::BitCast(d, h[0]));
}
HWY_INLINE MF JoinM(const dv::MF* h) {
    const dv::DI dl;
    const dv::VI v[2] = {hn::VecFromMask(dl, dv::ToI(h[0])), hn::VecFromMask(dl, dv::ToI(h[1]))};
    return ToF(hn::MaskFromVec(JoinI(v)));
}
#endif
HWY_INLINE VU PackWordsN(const dv::VU* h) {
#if HWY_TARGET == HWY_SCALAR
    return SetU(static_cast<std::uint32_t>(hn::GetLane(h[0])));
#else
    return dv::PackWords(h[0], h[1]);
#endif
}

// Words of one Philox block for a float vector of households.
struct Words {
    VU w[4];
};
// Philox words of U float vectors from their 2U (kHalves·U) double-lane
// evaluations.
template <int U>
HWY_INLINE void PackBlock(const dv::Words4* in, Words* out) {
#pragma GCC unroll 16
    for (int u = 0; u < U; ++u)
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {
            dv::VU h[kHalves];
            for (int q = 0; q < kHalves; ++q) h[q] = in[u * kHalves + q].w[k];
            out[u].w[k] = PackWordsN(h);
        }
}

// A Bernoulli threshold T in [0, 2^32] (engine/random/threshold.hpp) for
// 32-bit words: w < T  <=>  T > 0 and w <= T − 1 (unsigned), with T − 1 in
// [0, 2^32 − 1].
struct Thr {
    std::uint32_t tm1;  // T − 1 (T > 0)
    bool any;           // T > 0
    static Thr of(std::int64_t t) { return {static_cast<std::uint32_t>(t > 0 ? t - 1 : 0), t > 0}; }
};
HWY_INLINE MF Below(VU w, Thr t) {
    if (!t.any) return hn::FirstN(DF(), 0);
    return hn::RebindMask(DF(), hn::Eq(hn::Min(w, SetU(t.tm1)), w));
}
// The same with a lane choice between two thresholds.
HWY_INLINE MF Below(VU w, MF first, Thr a, Thr b) {
    const MF le = hn::RebindMask(DF(), hn::Eq(hn::Min(w, Sel(first, SetU(a.tm1), SetU(b.tm1))), w));
    if (a.any && b.any) return le;
    MF any = a.any ? first : hn::FirstN(DF(), 0);  // lanes whose threshold is above 0
    if (b.any) any = hn::Or(any, hn::Not(first));
    return hn::And(le, any);
}

// uniform01(w) < p in double, p a float lane value (rng::bernoulli with a
// lane probability), through the halves.
HWY_INLINE MF UniformBelow(VU w, VF p) {
    dv::VU wh[kHalves];
    dv::VF ph[kHalves];
    dv::MF mh[kHalves];
    Halves(w, wh);
    Halves(p, ph);
    for (int q = 0; q < kHalves; ++q) mh[q] = hn::Lt(dv::Uniform(wh[q]), ph[q]);
    return JoinM(mh);
}

// Binomial(n, T) of the table T by inversion of w (BinomialAt), through the
// halves.
HWY_INLINE VI BinomialF(const std::int64_t* T, VI n, VU w) {
    dv::VI nh[kHalves], xh[kHalves];
    dv::VU wh[kHalves];
    Halves(n, nh);
    Halves(w, wh);
    for (int q = 0; q < kHalves; ++q) xh[q] = Binomial(T, nh[q], wh[q]);
    return JoinI(xh);
}

// model::gini_bin(double(w)) lane-wise for float w >= 0 or NaN: a float and
// its double have the same exponent and leading mantissa bits.
HWY_INLINE VI GiniBinF(VF w) {
    using namespace artel::model;
    static_assert(kGiniSubBits <= 23);
    const DI di;
    const VI bits = hn::BitCast(di, w);
    const VI exponent = hn::Sub(hn::And(hn::ShiftRight<23>(bits), SetI(0xff)), SetI(127));
    const VI sub = hn::And(hn::ShiftRight<23 - kGiniSubBits>(bits), SetI((1 << kGiniSubBits) - 1));
    VI bin = hn::Add(hn::Add(hn::ShiftLeft<kGiniSubBits>(hn::Sub(exponent, SetI(kGiniMinExp))), sub), SetI(1));
    bin = Sel(hn::Gt(exponent, SetI(kGiniMaxExp - 1)), SetI(kGiniBins - 1), bin);
    // !(wealth >= 2^-8) -> 0 (also NaN)
    bin = Sel(hn::Not(hn::Ge(w, SetF(1.0f / 256.0f))), hn::Zero(di), bin);
    return bin;
}

// tab[n] lane-wise for n in [0, 16], from registers: the table in chunks of
// one vector, each looked up by a lane permutation (vpermd on AVX2), the
// chunk chosen by n. `fits`: the caller knows that every lane's n is below
// the lane count, so the first chunk is the whole answer (on AVX2 one
// permutation instead of three and their selects).
HWY_INLINE VI Lookup17(const std::int32_t* tab, VI n, bool fits) {
#if HWY_TARGET == HWY_SCALAR
    (void)fits;
    return SetI(tab[hn::GetLane(n)]);
#else
    const DI di;
    const std::size_t L = hn::Lanes(di);
    const VI local = hn::And(n, SetI(static_cast<std::int32_t>(L - 1)));
    const auto idx = hn::IndicesFromVec(di, local);
    VI r = hn::TableLookupLanes(hn::Load(di, tab), idx);
    if (fits) return r;
    for (std::size_t c = L; c < static_cast<std::size_t>(Tests01::kRows); c += L)
        r = hn::IfThenElse(hn::Gt(n, SetI(static_cast<std::int32_t>(c) - 1)),
                           hn::TableLookupLanes(hn::Load(di, tab + c), idx), r);
    return r;
#endif
}
// Whether every lane of the U vectors v is below the lane count: then every
// count bounded by v fits Lookup17's first chunk. Households have at most
// birth_cap (7 by default) persons unless they start larger, so on AVX2 and
// AVX-512 this holds almost always.
template <int U>
HWY_INLINE bool FitsOneChunk(const VI* v) {
    const DI di;
    const VI lanes = SetI(static_cast<std::int32_t>(hn::Lanes(di)));
    bool fits = true;
    for (int u = 0; u < U; ++u) fits = fits && hn::AllTrue(di, hn::Lt(v[u], lanes));
    return fits;
}
// w >= T lane-wise for the Tests01 entries e (w ^ 2^31 in ws).
HWY_INLINE MI Passes(VI ws, const std::int32_t* e, VI n, bool fits) { return hn::Gt(ws, Lookup17(e, n, fits)); }
HWY_INLINE VI SignFlip(VU w) { return hn::BitCast(DI(), hn::Xor(w, SetU(0x80000000u))); }

// Binomial(n, p) of the table T by inversion of w (BinomialAt): the tests
// k = 0, 1 in registers (t, T's first two thresholds), the exact 64-bit path
// (BinomialF) for a vector where some lane may have X >= 2 or where t cannot
// hold T. The same X either way.
HWY_INLINE VI Binomial01(const Tests01& t, const std::int64_t* T, VI n, VU w, bool fits) {
    if (HWY_UNLIKELY(!t.ok)) return BinomialF(T, n, w);
    const VI ws = SignFlip(w);
    const MI p1 = Passes(ws, t.e1, n, fits);
    if (HWY_UNLIKELY(!hn::AllFalse(DI(), p1))) return BinomialF(T, n, w);
    return hn::Neg(hn::VecFromMask(DI(), Passes(ws, t.e0, n, fits)));
}

HWY_INLINE void CountUsed(MF m, std::int64_t per_lane = 1) {
    artel::model::simd::detail::counts().used += per_lane * static_cast<std::int64_t>(hn::CountTrue(DF(), m));
}
HWY_INLINE void CountUsed(VI n) {
    alignas(64) std::int32_t t[kMaxF];
    hn::Store(n, DI(), t);
    for (std::size_t l = 0; l < hn::Lanes(DI()); ++l) artel::model::simd::detail::counts().used += t[l];
}

// Adds the lanes of v to sum in lane order (the scalar kernel's order), in
// double.
HWY_INLINE void ordered_sum(VF v, double& sum) {
    alignas(64) float tmp[kMaxF];
    hn::Store(v, DF(), tmp);
    for (std::size_t l = 0; l < hn::Lanes(DF()); ++l) sum += static_cast<double>(tmp[l]);
}
// The same for the lanes of m only (the others are +0.0, which would leave
// the sum unchanged anyway).
HWY_INLINE void ordered_sum(MF m, VF v, double& sum) {
    alignas(64) float tmp[kMaxF];
    std::uint8_t bits[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    hn::Store(v, DF(), tmp);
    hn::StoreMaskBits(DF(), m, bits);
    const std::uint64_t b64 = static_cast<std::uint64_t>(bits[0]) | (static_cast<std::uint64_t>(bits[1]) << 8);
    for (std::uint64_t b = b64; b; b &= b - 1) sum += static_cast<double>(tmp[__builtin_ctzll(b)]);
}

// Whether every lane's x·2^20 is below 2^31 in magnitude (false for NaN).
// x·2^20 is exact in float (a power of two), so there float's own rounding
// to int32 (nearest-even, as llrint) gives to_fixed's integer.
HWY_INLINE bool FixedFitsInt32(VF v) { return hn::AllTrue(DF(), hn::Lt(hn::Abs(v), SetF(2147483648.0f))); }

// to_fixed(double(x)) = llrint(x·2^20) lane-wise, as kHalves int64 vectors,
// for x >= 0 or NaN; kFixedInvalid (negative) where x is not a finite number
// up to kTallyMax (add_fixed would refuse it). Where every lane fits int32,
// by float's own rounding; otherwise in double lanes (wealth from 2048
// roubles up: a few households of most villages). Returns whether some lane
// is above `limit` (>= 2^31) or invalid.
inline constexpr std::int64_t kFixedInvalid = std::numeric_limits<std::int64_t>::min();
HWY_INLINE bool FixedLanes(VF x, dv::VI* f, std::int64_t limit) {
    const dv::DF dd;
    const dv::DI dl;
    dv::VF h[kHalves];
    Halves(x, h);
    bool beyond = false;
    for (int q = 0; q < kHalves; ++q) {
        const dv::MF valid = hn::Le(hn::Abs(h[q]), dv::SetF(artel::model::kTallyMax));  // false for NaN
        f[q] = dv::Sel(valid, dv::ToFixed(hn::IfThenElseZero(valid, h[q])), dv::SetI(kFixedInvalid));
        beyond = beyond || !hn::AllTrue(dd, valid) || !hn::AllFalse(dl, hn::Gt(f[q], dv::SetI(limit)));
    }
    return beyond;
}
HWY_INLINE bool FixedHalves(VF x, dv::VI* f, std::int64_t limit) {
    static_assert(artel::model::kFixedScale == 1048576.0);
    const VF v = hn::Mul(x, SetF(1048576.0f));
    if (HWY_LIKELY(FixedFitsInt32(v))) {
        Halves(hn::NearestInt(v), f);
        return false;
    }
    return FixedLanes(x, f, limit);
}

// Pointers to one vector's worth of household state.
struct Ptrs {
    std::int32_t *size, *adults, *literate, *coop, *hunger;
    float *land, *grain, *cash, *debt, *skill;
    Ptrs at(std::size_t i) const {
        return {size + i, adults + i, literate + i, coop + i, hunger + i,
                land + i, grain + i,  cash + i,     debt + i, skill + i};
    }
};

inline Ptrs ptrs_at(BlockState& s, std::size_t i) {
    auto& h = s.hh;
    return {h.size.data() + i,  h.adults.data() + i, h.literate.data() + i, h.coop.data() + i,
            h.hunger.data() + i, h.land.data() + i,  h.grain.data() + i,    h.cash.data() + i,
            h.debt.data() + i,  h.skill.data() + i};
}

// A padded copy of the last, partial vector of a village.
struct Tail {
    alignas(64) std::int32_t size[kMaxF], adults[kMaxF], literate[kMaxF], coop[kMaxF], hunger[kMaxF];
    alignas(64) float land[kMaxF], grain[kMaxF], cash[kMaxF], debt[kMaxF], skill[kMaxF];

    Ptrs load(const BlockState& s, std::size_t i, std::size_t rem) {
        const auto& h = s.hh;
        for (std::size_t l = 0; l < kMaxF; ++l) {
            const bool in = l < rem;
            size[l] = in ? h.size[i + l] : 0;
            adults[l] = in ? h.adults[i + l] : 0;
            literate[l] = in ? h.literate[i + l] : 0;
            coop[l] = in ? h.coop[i + l] : 0;
            hunger[l] = in ? h.hunger[i + l] : 0;
            land[l] = in ? h.land[i + l] : 0.0f;
            grain[l] = in ? h.grain[i + l] : 0.0f;
            cash[l] = in ? h.cash[i + l] : 0.0f;
            debt[l] = in ? h.debt[i + l] : 0.0f;
            skill[l] = in ? h.skill[i + l] : 0.0f;
        }
        return {size, adults, literate, coop, hunger, land, grain, cash, debt, skill};
    }
    void store(BlockState& s, std::size_t i, std::size_t rem) const {
        auto& h = s.hh;
        for (std::size_t l = 0; l < rem; ++l) {
            h.size[i + l] = size[l];
            h.adults[i + l] = adults[l];
            h.literate[i + l] = literate[l];
            h.coop[i + l] = coop[l];
            h.hunger[i + l] = hunger[l];
            h.land[i + l] = land[l];
            h.grain[i + l] = grain[l];
            h.cash[i + l] = cash[l];
            h.debt[i + l] = debt[l];
            h.skill[i + l] = skill[l];
        }
    }
};

// A value that Acc::add_const adds to a tally for several lanes at once.
struct FixedConst {
    double x = 0;
    std::int64_t f = 0;  // to_fixed(x) where small
    bool small = true;   // |x| < 2048: |f| < 2^31
    static FixedConst of(double x) {
        const bool small = std::fabs(x) < 2048.0;
        return {x, small ? to_fixed(x) : 0, small};
    }
};

// Lane-wise tally accumulators (integers: the order of addition is free).
// Fixed-point reals in int64 per double lane (the halves of a float vector
// side by side); counts in int32 per float lane, moved to int64 at each
// village's end (spill()).
//
// The limit of a tally (kTallyMax, kernels/tallies.hpp) is checked as in
// Tally, without a check on the common path: a vector whose every lane fits
// int32 (below 2048 roubles or centners) is added to the lanes unchecked,
// any other with add_fixed's checks (add_checked), which keep a lane within
// kFixedMax = 2^62 (or mark the tally and reset the lane). Unchecked adds
// of less than 2^31 each, at most two per household (a block has at most
// 2^30), add less than 2^62 to a lane between two such checks, so no lane
// wraps; flush() then adds the lanes with checks. The addends of a tally have
// one sign, so it is marked exactly when its whole sum passes the limit, as
// the scalar kernel marks it.
struct Acc {
    alignas(64) std::int64_t real[kReals][kMaxF];
    alignas(64) std::int32_t lanes[kCounts][kMaxF];
    std::int64_t count[kCounts];
    // The Gini bins touched by living households: [min, max + 1), lane-wise.
    alignas(64) std::int32_t glo[kMaxF], ghi[kMaxF];
    std::uint32_t overflow;  // as Tally::overflow

    void clear() {
        std::memset(real, 0, sizeof(real));
        std::memset(lanes, 0, sizeof(lanes));
        std::memset(count, 0, sizeof(count));
        std::fill_n(glo, kMaxF, kGiniBins);
        std::fill_n(ghi, kMaxF, 0);
        overflow = 0;
    }
    // bin in the lanes of m
    HWY_INLINE void touch(MI m, VI bin) {
        const DI di;
        hn::Store(hn::Min(hn::Load(di, glo), Sel(m, bin, SetI(kGiniBins))), di, glo);
        hn::Store(hn::Max(hn::Load(di, ghi), hn::IfThenElseZero(m, hn::Add(bin, SetI(1)))), di, ghi);
    }
    std::int64_t bins_lo() const { return *std::min_element(glo, glo + kMaxF); }
    std::int64_t bins_hi() const { return *std::max_element(ghi, ghi + kMaxF); }
    // tally.add(r, x) for every lane of m (to_fixed of x promoted to double).
    HWY_INLINE void add(Real r, MF m, VF x) {
        const dv::DI dl;
        std::int64_t* p = real[static_cast<int>(r)];
        const VF xm = hn::IfThenElseZero(m, x);
        const VF v = hn::Mul(xm, SetF(1048576.0f));
        if (HWY_UNLIKELY(!FixedFitsInt32(v))) return add_checked(r, xm);
        dv::VI f[kHalves];
        Halves(hn::NearestInt(v), f);
        for (int q = 0; q < kHalves; ++q) {
            std::int64_t* pq = p + q * hn::Lanes(dl);
            hn::Store(hn::Add(hn::Load(dl, pq), f[q]), dl, pq);
        }
    }
    // The same, checked as add_fixed checks (a lane that fails is reset to
    // 0 and the tally marked), in double lanes. Inline and without a call:
    // a call, even on this rare path, made the AVX2 kernel spill registers
    // and run 2% slower.
    HWY_INLINE void add_checked(Real r, VF x) {
        const dv::DI dl;
        std::int64_t* p = real[static_cast<int>(r)];
        dv::VF h[kHalves];
        Halves(x, h);
        bool bad = false;
        for (int q = 0; q < kHalves; ++q) {
            const dv::MF valid = hn::Le(hn::Abs(h[q]), dv::SetF(kTallyMax));  // false for NaN
            const dv::VI f = dv::ToFixed(hn::IfThenElseZero(valid, h[q]));
            std::int64_t* pq = p + q * hn::Lanes(dl);
            const dv::VI a = hn::Load(dl, pq);
            const dv::VI sum = hn::Add(a, f);  // modular
            // wrapped: a and f of one sign, the sum of the other
            const dv::MI wrapped = hn::Lt(hn::And(hn::Xor(a, sum), hn::Xor(f, sum)), hn::Zero(dl));
            const dv::MI beyond = hn::Or(hn::Gt(sum, dv::SetI(kFixedMax)), hn::Lt(sum, dv::SetI(-kFixedMax)));
            const dv::MI fail = hn::Or(hn::Or(hn::Not(dv::ToI(valid)), wrapped), beyond);
            hn::Store(hn::IfThenZeroElse(fail, sum), dl, pq);
            bad = bad || !hn::AllFalse(dl, fail);
        }
        if (bad) overflow |= 1u << static_cast<int>(r);
    }
    // tally.add(r, x.x) for every lane of m: k·to_fixed(x) into slot 0,
    // unchecked where x is below 2048 in magnitude (as if each lane had added
    // it), checked otherwise.
    HWY_INLINE void add_const(Real r, MF m, const FixedConst& x) {
        const auto k = static_cast<std::int64_t>(hn::CountTrue(DF(), m));
        if (HWY_LIKELY(x.small)) {
            real[static_cast<int>(r)][0] += k * x.f;
            return;
        }
        add_const_checked(r, k, x.x);
    }
    HWY_INLINE void add_const_checked(Real r, std::int64_t k, double x) {
        if (k == 0) return;
        std::int64_t kx = 0;
        if (!(std::fabs(x) <= kTallyMax) || __builtin_mul_overflow(k, to_fixed(x), &kx) ||
            !add_fixed_units(real[static_cast<int>(r)][0], kx))
            overflow |= 1u << static_cast<int>(r), real[static_cast<int>(r)][0] = 0;
    }
    // tally.add(r, x) once.
    void add_one(Real r, double x) {
        if (!add_fixed(real[static_cast<int>(r)][0], x))
            overflow |= 1u << static_cast<int>(r), real[static_cast<int>(r)][0] = 0;
    }
    // tally.add(c, -x) lane-wise.
    HWY_INLINE void add_neg(Count c, VI x) {
        const DI di;
        std::int32_t* p = lanes[static_cast<int>(c)];
        hn::Store(hn::Sub(hn::Load(di, p), x), di, p);
    }
    // tally.add(c, 1) for every lane of m.
    HWY_INLINE void add(Count c, MF m) {
        const DI di;
        std::int32_t* p = lanes[static_cast<int>(c)];
        hn::Store(hn::Sub(hn::Load(di, p), hn::VecFromMask(di, ToI(m))), di, p);
    }
    // The int32 lane counts into count. A lane adds at most 16 per household
    // (deaths) and 1 per household to the other counts, so flush() alone is
    // safe for blocks of up to 2^31 / 16 households per lane; StepYear spills
    // after every village (at most 2^20 households) in larger blocks.
    void spill() {
        for (int c = 0; c < kCounts; ++c) {
            std::int64_t s = 0;
            for (std::size_t l = 0; l < kMaxF; ++l) s += lanes[c][l], lanes[c][l] = 0;
            count[c] += s;
        }
    }
    // The sums so far of a RegionTally's quantities, lanes included, in
    // wrapping arithmetic: the difference of two such readings is exactly
    // what was added in between (a village's share, for its region).
    void region_sums(std::uint64_t* c, std::uint64_t* r) const {
        for (std::size_t i = 0; i < RegionTally::kCounts.size(); ++i) {
            const int ci = static_cast<int>(RegionTally::kCounts[i]);
            std::uint64_t sum = static_cast<std::uint64_t>(count[ci]);
            for (std::size_t l = 0; l < kMaxF; ++l) sum += static_cast<std::uint64_t>(std::int64_t{lanes[ci][l]});
            c[i] = sum;
        }
        for (std::size_t j = 0; j < RegionTally::kReals.size(); ++j) {
            const int rj = static_cast<int>(RegionTally::kReals[j]);
            std::uint64_t sum = 0;
            for (std::size_t l = 0; l < kMaxF; ++l) sum += static_cast<std::uint64_t>(real[rj][l]);
            r[j] = sum;
        }
    }
    // What was added since `c0`, `r0` (region_sums), to region `rt`.
    void add_region_share(const std::uint64_t* c0, const std::uint64_t* r0, RegionTally& rt) const {
        constexpr std::size_t C = RegionTally::kCounts.size(), R = RegionTally::kReals.size();
        std::uint64_t c1[C], r1[R];
        region_sums(c1, r1);
        std::int64_t dc[C], dr[R];
        for (std::size_t i = 0; i < C; ++i) dc[i] = static_cast<std::int64_t>(c1[i] - c0[i]);
        for (std::size_t j = 0; j < R; ++j) {
            dr[j] = static_cast<std::int64_t>(r1[j] - r0[j]);
            // a lane reset by add_checked loses what it held: the tally is
            // marked (and the run stops), and so is the region's
            if ((overflow >> static_cast<int>(RegionTally::kReals[j])) & 1u) rt.overflow |= 1u << j;
        }
        rt.add_units(dc, dr);
    }
    void flush(Tally& tally) {
        spill();
        for (int r = 0; r < kReals; ++r) {
            // Lanes within +-2^57 (the usual) add up without a check: at most
            // 32 of them stay within 2^62. (In uint64, which wraps where
            // int64 would be undefined; the loop vectorises.)
            std::uint64_t s = 0, big = 0;
            for (std::size_t l = 0; l < kMaxF; ++l) {
                const auto v = static_cast<std::uint64_t>(real[r][l]);
                s += v;
                big |= (v + (std::uint64_t{1} << 57)) >> 58;
            }
            static_assert(kMaxF <= 32);
            bool ok = true;
            std::int64_t sum = static_cast<std::int64_t>(s);
            if (big) {
                sum = 0;
                for (std::size_t l = 0; l < kMaxF; ++l) ok &= add_fixed_units(sum, real[r][l]);
            }
            if (!ok || !add_fixed_units(tally.real[static_cast<std::size_t>(r)], sum)) overflow |= 1u << r;
        }
        tally.overflow |= overflow;
        for (int c = 0; c < kCounts; ++c) tally.count[static_cast<std::size_t>(c)] += count[c];
    }
};
}  // namespace f32

// ---- per-year and per-village constants ----------------------------------

struct YearConst {
    const Params* p;
    HouseholdConst hc;
    StreamConst hy, demog;
    f32::Thr t_birth, t_school;
    // step 5's binomial thresholds (rng::BinomialTable::thresholds())
    const std::int64_t *b_age, *b_school, *b_adult_death, *b_child_death;
    const Tests01 *q_age, *q_school, *q_adult_death, *q_child_death;  // their tests k = 0, 1
    f32::Thr t_false, t_audit, t_false_audit, t_leave, t_lapse, t_lapse_hungry;
    float sigma_Hf, c2Hf;   // fmath::weather_coefficients
    bool bonus_on;
    f32::FixedConst audit_cost, bonus;  // step 7's tallies
    bool store_hy0;  // pass A keeps HouseholdYear words 2, 3 for pass B
};

struct VillageConst {
    double R, P, V;
    float Rf, Pf, Vf;
    double c;  // step 4(b) reserve fraction
    float cf;
    bool store;
    bool closed;  // store closed in step 1 (coop_start differs from coop)
    // market
    float state_share, one_minus_share, p_coop, p_other;
    // literacy (vs.learn; null when off)
    const LearnConst* learn;
    // adoption
    f32::Thr t_join;
};

// ---- phase E: the household weather multipliers of a village ------------------
//
// E = fmath::weather_multiplier of HouseholdYear words 0 and 1 depends only on
// the household's HouseholdYear block 0, so it is computed for K double-lane
// vectors of households at once (the log/cos/exp chains are long) before
// pass A, over the village's padded range, in single precision (a float
// vector holds the households of two double-lane Philox vectors). Words 2 and
// 3 are kept, as 32-bit lanes, for pass B.
template <int K>
HWY_NOINLINE void PhaseE(std::size_t j, std::uint32_t id_j, const YearConst& yc, VillageScratch& vs) {
    static_assert(K % 2 == 0);
    const DF df;
    const std::size_t N = hn::Lanes(df);
    VU ids[K];
    Words4 w[K];
    for (int k = 0; k < K; ++k) ids[k] = Ids(static_cast<std::uint64_t>(id_j) + static_cast<std::uint64_t>(k) * N);
    PhiloxChunksK<K>(ids, yc.hy, 0, w);
#if HWY_TARGET == HWY_SCALAR
    for (int k = 0; k < K; ++k) {
        const auto w0 = static_cast<std::uint32_t>(hn::GetLane(w[k].w[0]));
        const auto w1 = static_cast<std::uint32_t>(hn::GetLane(w[k].w[1]));
        vs.E[j + static_cast<std::size_t>(k)] = fmath::weather_multiplier(w0, w1, yc.sigma_Hf, yc.c2Hf);
        if (yc.store_hy0) {
            vs.hy2[j + static_cast<std::size_t>(k)] = static_cast<std::uint32_t>(hn::GetLane(w[k].w[2]));
            vs.hy3[j + static_cast<std::size_t>(k)] = static_cast<std::uint32_t>(hn::GetLane(w[k].w[3]));
        }
    }
#else
    const DF32 d32;
    const DU32 du32;
    VU32 w0[K / 2], w1[K / 2];
    VF32 z[K / 2], x[K / 2], e[K / 2];
    for (int k = 0; k < K / 2; ++k) {
        w0[k] = PackWords(w[2 * k].w[0], w[2 * k + 1].w[0]);
        w1[k] = PackWords(w[2 * k].w[1], w[2 * k + 1].w[1]);
    }
    NormalZ0FK<K / 2>(w0, w1, z);
    for (int k = 0; k < K / 2; ++k) x[k] = hn::Sub(hn::Mul(hn::Set(d32, yc.sigma_Hf), z[k]), hn::Set(d32, yc.c2Hf));
    ExpSmallFK<K / 2>(x, e);
    for (int k = 0; k < K / 2; ++k) {
        const std::size_t at = j + static_cast<std::size_t>(2 * k) * N;
        hn::StoreU(e[k], d32, vs.E.data() + at);
        if (yc.store_hy0) {
            hn::StoreU(PackWords(w[2 * k].w[2], w[2 * k + 1].w[2]), du32, vs.hy2.data() + at);
            hn::StoreU(PackWords(w[2 * k].w[3], w[2 * k + 1].w[3]), du32, vs.hy3.data() + at);
        }
    }
#endif
}

namespace f32 {

// ---- pass A: steps 3 and 4(a) ---------------------------------------------

HWY_NOINLINE void PassA(const Ptrs& base, std::size_t i0, std::size_t j, std::size_t nvalid, const YearConst& yc,
                        const VillageConst& vc, VillageScratch& vs, Acc& acc, std::int64_t& persons_start,
                        double& levy_sum, double& short_sum) {
    const DF df;
    const DI di;
    const Params& p = *yc.p;
    const HouseholdConst& hc = yc.hc;
    const auto& mech = p.mechanisms;

    const Ptrs h = base.at(i0);
    // Lanes from nvalid on belong to the next village: they are read (in
    // bounds), treated as dissolved, and written back unchanged.
    const bool partial = nvalid < hn::Lanes(df);
    const MF valid = hn::FirstN(df, nvalid);
    VI size = LoadI32(h.size);
    if (partial) size = hn::IfThenElseZero(ToI(valid), size);
    const VI adults = LoadI32(h.adults);
    const VI literate = LoadI32(h.literate);
    const VI coop = LoadI32(h.coop);
    const VF land = hn::LoadU(df, h.land);
    VF grain = hn::LoadU(df, h.grain);
    VF cash = hn::LoadU(df, h.cash);

    const MF alive = ToF(hn::Gt(size, hn::Zero(di)));
    persons_start += hn::GetLane(hn::SumOfLanes(di, size));  // dead lanes have size 0
    if (Counting()) {
        artel::model::simd::detail::counts().household_years += static_cast<std::int64_t>(hn::CountTrue(df, alive));
        if (mech.weather) CountUsed(alive, 2);
    }

    // 3. Harvest, reserve levy, off-farm earnings.
    const VF E = mech.weather ? hn::LoadU(df, vs.E.data() + j) : SetF(1.0f);
    const VF coop2 = Sel(ToF(hn::Eq(coop, SetI(2))), SetF(1.0f), hn::Zero(df));
    const VF pi = hn::Add(hn::Add(SetF(1.0f), hn::Mul(SetF(hc.beta_lit), LitShare(literate, adults))),
                          hn::Mul(SetF(hc.beta_coop), coop2));
    const VF hv =
        hn::Mul(hn::Mul(hn::Mul(hn::Mul(hn::Mul(land, SetF(hc.yield_mean)), SetF(vc.Rf)), SetF(vc.Vf)), E), pi);
    grain = Sel(alive, hn::Add(grain, hv), grain);
    acc.add(Real::harvest, alive, hv);
    acc.add(Real::land, alive, land);
    if (mech.reserve) {
        const VF levy = hn::Mul(SetF(hc.reserve_levy), hv);
        grain = Sel(alive, hn::Sub(grain, levy), grain);
        ordered_sum(hn::IfThenElseZero(alive, levy), levy_sum);
    }
    const VF sized = I2F(size);
    const VF landpoor = Max0(hn::Sub(SetF(1.0f), hn::Div(hn::Div(land, sized), SetF(hc.land_per_mouth))));
    const VF wage =
        hn::Mul(hn::Mul(SetF(hc.wage), I2F(adults)), hn::Add(SetF(1.0f), hn::Mul(SetF(hc.wage_landpoor), landpoor)));
    cash = Sel(alive, hn::Add(cash, wage), cash);

    // 4(a). Subsistence: buying with cash.
    const VF need = hn::Add(hn::Mul(sized, SetF(hc.food_need)), hn::Mul(land, SetF(hc.seed_need)));
    const MF is_short = hn::AndNot(hn::Ge(grain, need), alive);
    VF Dst = hn::Zero(df);
    if (!hn::AllFalse(df, is_short)) {
        const VF P = SetF(vc.Pf);
        const VF D = hn::Sub(need, grain);
        const VF cost = hn::Mul(D, P);
        const MF canpay = hn::Ge(cash, cost);
        const VF bought = Sel(canpay, D, hn::Div(cash, P));
        cash = Sel(is_short, Sel(canpay, hn::Sub(cash, cost), hn::Zero(df)), cash);
        grain = Sel(is_short, hn::Add(grain, bought), grain);
        acc.add(Real::bought, is_short, bought);
        Dst = hn::IfThenElseZero(is_short, Sel(canpay, hn::Zero(df), hn::Sub(D, bought)));
        ordered_sum(Dst, short_sum);  // +0.0 where not short: the sum is unchanged
    }
    hn::StoreU(Dst, df, vs.shortfall.data() + j);
    // (dissolved and foreign lanes were not changed: grain, cash are selects on alive)
    hn::StoreU(grain, df, h.grain);
    hn::StoreU(cash, df, h.cash);
}

// ---- pass B: steps 4(b)–10 and the end-of-year stocks ------------------------

// End-of-year counts of a village's living households, lane-wise.
struct VillageCounts {
    enum : int { kLiving, kPersons, kMembers, kPassive, kActive, kAdults, kLiterate, kN };
    alignas(64) std::int32_t v[kN][kMaxF];
    void clear() { std::memset(v, 0, sizeof(v)); }
    HWY_INLINE void add(int i, VI x) {
        const DI di;
        hn::Store(hn::Add(hn::Load(di, v[i]), x), di, v[i]);
    }
    std::int64_t sum(int i) const {
        std::int64_t s = 0;
        for (std::size_t l = 0; l < kMaxF; ++l) s += v[i][l];
        return s;
    }
};

// Dissolves the lanes of `dis` (household_model.cpp's dissolve()).
HWY_INLINE void Dissolve(MF dis, VI& coop, VI& hunger, VF& grain, VF& cash, VF& debt, Acc& acc) {
    const DF df;
    if (hn::AllFalse(df, dis)) return;
    const MF member = hn::And(dis, ToF(hn::Gt(coop, hn::Zero(DI()))));
    acc.add(Real::cost_writeoff, member, debt);
    debt = hn::IfThenZeroElse(dis, debt);
    grain = hn::IfThenZeroElse(dis, grain);
    cash = hn::IfThenZeroElse(dis, cash);
    coop = hn::IfThenZeroElse(ToI(dis), coop);
    hunger = hn::IfThenZeroElse(ToI(dis), hunger);
    acc.add(Count::dissolved, dis);
}

// All U vectors of a group: `for (int u = 0; u < U; ++u)`.
#define ARTEL_U _Pragma("GCC unroll 16") for (int u = 0; u < U; ++u)

template <int U>
HWY_INLINE bool AnyOf(const MF* m) {
    bool any = false;
    ARTEL_U any = any || !hn::AllFalse(DF(), m[u]);
    return any;
}

// Philox block(s) of U float vectors of households: PhiloxMulti over their
// kHalves·U double-lane id vectors, packed to 32-bit lanes.
// out[k·U + u] = block blocks[k] of vector u.
template <int U, int K>
HWY_INLINE void PhiloxF(const dv::VU* ids, const StreamConst& sc, const std::uint32_t* blocks, Words* out) {
    constexpr int V = U * kHalves;
    dv::Words4 w[K * V];
    PhiloxMulti<V, K>(ids, sc, blocks, w);
#pragma GCC unroll 4
    for (int k = 0; k < K; ++k) PackBlock<U>(w + k * V, out + k * U);
}

// U consecutive float vectors of households (village places j, j + N, ...)
// at once: every statement is applied to the U vectors in turn. The values in
// each lane are those of the scalar kernel whatever U is.
template <int U>
HWY_NOINLINE void PassB(const Ptrs& base, std::size_t i0, std::size_t j, std::uint32_t id0, std::size_t nvalid,
                        const YearConst& yc, const VillageConst& vc, VillageScratch& vs, Acc& acc,
                        VillageCounts& vcnt, double& drawn_sum) {
    const DF df;
    const DI di;
    const DU du;
    const std::size_t N = hn::Lanes(df);
    const std::size_t NH = hn::Lanes(dv::DF());
    const Params& p = *yc.p;
    const HouseholdConst& hc = yc.hc;
    const auto& mech = p.mechanisms;
    const VF P = SetF(vc.Pf);

    // the U vectors' households: base.X + i0 + u·N
    const auto at = [&](auto* ptr, int u) { return ptr + i0 + static_cast<std::size_t>(u) * N; };
    VI size[U], adults[U], literate[U], coop[U], hunger[U], coop_start[U];
    VF land[U], grain[U], cash[U], debt[U], skill[U], need[U];
    dv::VU ids[U * kHalves];
    MF alive[U];
    // With U = 1, lanes from nvalid on belong to the next village: treated as
    // dissolved, and their memory is written back as it was.
    const bool partial = nvalid < N;
    const MF valid = hn::FirstN(df, nvalid);
    ARTEL_U {
        size[u] = LoadI32(at(base.size, u));
        if (partial) size[u] = hn::IfThenElseZero(ToI(valid), size[u]);
        adults[u] = LoadI32(at(base.adults, u));
        literate[u] = LoadI32(at(base.literate, u));
        coop[u] = LoadI32(at(base.coop, u));
        hunger[u] = LoadI32(at(base.hunger, u));
        land[u] = hn::LoadU(df, at(base.land, u));
        grain[u] = hn::LoadU(df, at(base.grain, u));
        cash[u] = hn::LoadU(df, at(base.cash, u));
        debt[u] = hn::LoadU(df, at(base.debt, u));
        skill[u] = hn::LoadU(df, at(base.skill, u));
        coop_start[u] = vc.closed ? LoadI32(vs.coop_start.data() + j + u * N) : coop[u];
        for (int q = 0; q < kHalves; ++q)
            ids[u * kHalves + q] = Ids(static_cast<std::uint64_t>(id0) + u * N + static_cast<std::size_t>(q) * NH);
        alive[u] = ToF(hn::Gt(size[u], hn::Zero(di)));
        need[u] = hn::Add(hn::Mul(I2F(size[u]), SetF(hc.food_need)), hn::Mul(land[u], SetF(hc.seed_need)));
    }

    // HouseholdYear blocks 0 (unless pass A kept its words) and 1, computed
    // together, and Demography block 0 (step 5's binomials), so that all are
    // ready when the steps need them.
    Words hy[2 * U];  // computed blocks, U vectors each, in the order computed
    int slot[2] = {-1, -1};
    int computed = 0;
    {
        std::uint32_t bl[2];
        int nb = 0;
        if (AnyOf<U>(alive)) {
            if (mech.demography && !yc.store_hy0) bl[nb++] = 0;
            if (mech.adoption || mech.literacy || yc.bonus_on) bl[nb++] = 1;
        }
        if (nb == 2) PhiloxF<U, 2>(ids, yc.hy, bl, hy);
        if (nb == 1) PhiloxF<U, 1>(ids, yc.hy, bl, hy);
        for (int i = 0; i < nb; ++i) slot[bl[i]] = i;
        computed = nb;
    }
    auto block = [&](std::uint32_t b) -> const Words* {
        if (slot[b] < 0) {
            PhiloxF<U, 1>(ids, yc.hy, &b, hy + computed * U);
            slot[b] = computed++;
        }
        return hy + slot[b] * U;
    };
    Words dem[U]{};
    if (mech.demography && AnyOf<U>(alive)) {
        const std::uint32_t b0 = 0;
        PhiloxF<U, 1>(ids, yc.demog, &b0, dem);
    }
    // Demography block 1, drawn only when some lane needs it: a famine death
    // or an eldest child who comes of age at once.
    Words dem1[U];
    bool have_dem1 = false;
    auto dem_block1 = [&]() -> const Words* {
        if (!have_dem1) {
            const std::uint32_t b1 = kFamine / 4;
            PhiloxF<U, 1>(ids, yc.demog, &b1, dem1);
            have_dem1 = true;
        }
        return dem1;
    };

    // 4(b)–(d), famine, consumption.
    {
        VF D[U];
        MF member[U], m[U];
        ARTEL_U {
            D[u] = hn::LoadU(df, vs.shortfall.data() + j + u * N);
            member[u] = ToF(hn::Gt(coop[u], hn::Zero(di)));
        }
        if (vc.c > 0.0) {
            ARTEL_U m[u] = hn::And(alive[u], hn::Gt(D[u], hn::Zero(df)));
            if (AnyOf<U>(m)) {
                const bool full = vc.c >= 1.0;
                ARTEL_U {
                    const VF take = full ? D[u] : hn::Mul(SetF(vc.cf), D[u]);
                    grain[u] = Sel(m[u], hn::Add(grain[u], take), grain[u]);
                    ordered_sum(m[u], take, drawn_sum);  // household order
                    acc.add(Real::reserve_drawn, m[u], take);
                    D[u] = Sel(m[u], full ? hn::Zero(df) : hn::Sub(D[u], take), D[u]);
                }
            }
        }
        if (p.coop_aid > 0.0) {
            ARTEL_U m[u] = hn::And(hn::And(alive[u], hn::Gt(D[u], hn::Zero(df))), member[u]);
            if (AnyOf<U>(m)) {
                const bool full = p.coop_aid >= 1.0;
                ARTEL_U {
                    const VF aid = full ? D[u] : hn::Mul(SetF(hc.coop_aid), D[u]);
                    grain[u] = Sel(m[u], hn::Add(grain[u], aid), grain[u]);
                    acc.add(Real::aid, m[u], aid);
                    acc.add(Real::cost_aid, m[u], hn::Mul(aid, P));
                    D[u] = Sel(m[u], full ? hn::Zero(df) : hn::Sub(D[u], aid), D[u]);
                }
            }
        }
        if (mech.credit) {
            ARTEL_U m[u] = hn::And(alive[u], hn::Gt(D[u], hn::Zero(df)));
            if (AnyOf<U>(m)) {
                ARTEL_U {
                    const VF limit = Sel(member[u], SetF(hc.credit_limit_coop), SetF(hc.credit_limit_private));
                    const VF room = Max0(hn::Sub(limit, debt[u]));
                    const VF cost = hn::Mul(D[u], P);
                    const MF ok = hn::Ge(room, cost);
                    const VF broubles = Sel(ok, cost, room);
                    const VF grain_in = Sel(ok, D[u], hn::Div(room, P));
                    D[u] = Sel(m[u], Sel(ok, hn::Zero(df), hn::Sub(D[u], grain_in)), D[u]);
                    const MF mb = hn::And(m[u], hn::Gt(broubles, hn::Zero(df)));
                    grain[u] = Sel(mb, hn::Add(grain[u], grain_in), grain[u]);
                    debt[u] = Sel(mb, hn::Add(debt[u], broubles), debt[u]);
                    acc.add(Real::borrowed, mb, grain_in);
                }
            }
        }
        VF f_unc[U];
        MF hungry[U];
        ARTEL_U {
            f_unc[u] = Sel(hn::Gt(need[u], hn::Zero(df)), hn::Div(D[u], need[u]), hn::Zero(df));
            hungry[u] = hn::And(alive[u], hn::Gt(f_unc[u], hn::Zero(df)));
            hunger[u] = Sel(hungry[u], hn::Add(hunger[u], SetI(1)), Sel(alive[u], hn::Zero(di), hunger[u]));
        }
        if (mech.famine && AnyOf<U>(hungry)) {
            // One word decides who dies, if anyone, by nested intervals:
            // u < d·a·l a literate adult, else u < d·a an illiterate adult,
            // else u < d a child (the probabilities in float, the tests in
            // double as rng::bernoulli makes them).
            const Words* wf = dem_block1();
            VF die[U];
            MF dies[U];
            ARTEL_U {
                die[u] = hn::Mul(SetF(hc.famine_mortality), f_unc[u]);
                dies[u] = hn::And(hungry[u], UniformBelow(wf[u].w[kFamine % 4], die[u]));
            }
            if (Counting()) ARTEL_U CountUsed(hungry[u]);
            if (AnyOf<U>(dies)) {
                ARTEL_U {
                    const VF adult_dies = hn::Mul(die[u], hn::Div(I2F(adults[u]), I2F(size[u])));
                    const VF literate_dies = hn::Mul(adult_dies, LitShare(literate[u], adults[u]));
                    const MF adult = hn::And(dies[u], UniformBelow(wf[u].w[kFamine % 4], adult_dies));
                    const MF lit = hn::And(adult, UniformBelow(wf[u].w[kFamine % 4], literate_dies));
                    literate[u] = Sel(lit, hn::Sub(literate[u], SetI(1)), literate[u]);
                    adults[u] = Sel(adult, hn::Sub(adults[u], SetI(1)), adults[u]);
                    size[u] = Sel(dies[u], hn::Sub(size[u], SetI(1)), size[u]);
                    acc.add(Count::famine_deaths, dies[u]);
                }
            }
        }
        ARTEL_U {
            // consumption: grain −= min(grain, need) (living households)
            const VF consumed = Sel(hn::Lt(need[u], grain[u]), need[u], grain[u]);
            grain[u] = Sel(alive[u], hn::Sub(grain[u], consumed), grain[u]);
            Dissolve(hn::And(alive[u], ToF(hn::Eq(size[u], hn::Zero(di)))), coop[u], hunger[u], grain[u], cash[u],
                     debt[u], acc);
        }
    }

    // 5. Demography.
    if (mech.demography) {
        ARTEL_U alive[u] = ToF(hn::Gt(size[u], hn::Zero(di)));
        if (AnyOf<U>(alive)) {
            VU w2[U], w3[U];
            if (yc.store_hy0) {
                ARTEL_U {
                    w2[u] = hn::LoadU(du, vs.hy2.data() + j + u * N);
                    w3[u] = hn::LoadU(du, vs.hy3.data() + j + u * N);
                }
            } else {
                const Words* w0 = block(0);
                ARTEL_U w2[u] = w0[u].w[2], w3[u] = w0[u].w[3];
            }
            VI ch[U];
            ARTEL_U {
                ch[u] = hn::IfThenElseZero(ToI(alive[u]), hn::Sub(size[u], adults[u]));  // children0
                const MF cond = hn::And(
                    alive[u], ToF(hn::And(hn::Gt(adults[u], SetI(1)),
                                          hn::Lt(size[u], SetI(static_cast<std::int32_t>(p.birth_cap))))));
                const MF birth = hn::And(cond, Below(w2[u], yc.t_birth));
                size[u] = Sel(birth, hn::Add(size[u], SetI(1)), size[u]);
                acc.add(Count::births, birth);
                if (Counting()) {  // the birth word is read where the conditions hold
                    CountUsed(cond);
                    CountUsed(alive[u], 5);  // the five binomial words
                }
            }
            // Coming of age, then deaths: one binomial per word (each lane's n
            // picks its row of the table; dead lanes have n = 0, hence 0).
            // Every n is at most the size after births.
            const bool fits = FitsOneChunk<U>(size);
            ARTEL_U {
                const MI live = ToI(alive[u]);
                const VI came = Binomial01(*yc.q_age, yc.b_age, ch[u], dem[u].w[kComeOfAge], fits);
                const VI schooled = Binomial01(*yc.q_school, yc.b_school, came, dem[u].w[kSchooled], fits);
                adults[u] = hn::Add(adults[u], came);
                literate[u] = hn::Add(literate[u], schooled);
                const VI lit = hn::IfThenElseZero(live, literate[u]);
                const VI ill = hn::IfThenElseZero(live, hn::Sub(adults[u], literate[u]));
                const VI kids = hn::IfThenElseZero(live, hn::Sub(size[u], adults[u]));
                const VI dead_lit = Binomial01(*yc.q_adult_death, yc.b_adult_death, lit, dem[u].w[kDeathsLiterate], fits);
                const VI dead_ill = Binomial01(*yc.q_adult_death, yc.b_adult_death, ill, dem[u].w[kDeathsIlliterate], fits);
                const VI dead_child = Binomial01(*yc.q_child_death, yc.b_child_death, kids, w3[u], fits);
                const VI dead_ad = hn::Add(dead_lit, dead_ill);
                const VI dead = hn::Add(dead_ad, dead_child);
                literate[u] = hn::Sub(literate[u], dead_lit);
                adults[u] = hn::Sub(adults[u], dead_ad);
                size[u] = hn::Sub(size[u], dead);
                acc.add_neg(Count::deaths, hn::Neg(dead));
            }
            // The eldest child of a household left without adults comes of age
            // at once (Demography block 1, drawn only when some lane needs it).
            MF eldest[U];
            ARTEL_U eldest[u] =
                hn::And(alive[u], ToF(hn::And(hn::Eq(adults[u], hn::Zero(di)), hn::Gt(size[u], hn::Zero(di)))));
            if (AnyOf<U>(eldest)) {
                static_assert(kEldestLiterate / 4 == kFamine / 4);
                const Words* d1 = dem_block1();
                ARTEL_U {
                    adults[u] = Sel(eldest[u], SetI(1), adults[u]);
                    const MF lit = hn::And(eldest[u], Below(d1[u].w[kEldestLiterate % 4], yc.t_school));
                    if (Counting()) CountUsed(eldest[u]);
                    literate[u] = Sel(lit, hn::Add(literate[u], SetI(1)), literate[u]);
                }
            }
            ARTEL_U Dissolve(hn::And(alive[u], ToF(hn::Eq(size[u], hn::Zero(di)))), coop[u], hunger[u], grain[u],
                             cash[u], debt[u], acc);
        }
    }

    // 6. Market.
    if (mech.market) {
        ARTEL_U {
            alive[u] = ToF(hn::Gt(size[u], hn::Zero(di)));
            const VF spent = hn::Mul(SetF(hc.spend_share), cash[u]);
            cash[u] = Sel(alive[u], hn::Sub(cash[u], spent), cash[u]);
            const VF s_amt =
                hn::Mul(SetF(hc.sell_share), Max0(hn::Sub(grain[u], hn::Mul(SetF(hc.keep_buffer), need[u]))));
            const VF culture =
                hn::Sub(SetF(1.0f), hn::Mul(SetF(hc.culture_loss), hn::Sub(SetF(1.0f), skill[u])));
            const MF act = ToF(hn::Eq(coop[u], SetI(2)));
            const VF price = Sel(act, SetF(vc.p_coop), SetF(vc.p_other));
            const VF proceeds = hn::Mul(hn::Mul(s_amt, price), culture);
            const MF other = hn::AndNot(act, alive[u]);
            acc.add(Real::sold_coop, hn::And(alive[u], act), s_amt);
            acc.add(Real::sold_private, other, hn::Mul(SetF(vc.one_minus_share), s_amt));
            acc.add(Real::sold_state, other, hn::Mul(SetF(vc.state_share), s_amt));
            cash[u] = Sel(alive[u], hn::Add(cash[u], proceeds), cash[u]);
            grain[u] = Sel(alive[u], hn::Sub(grain[u], s_amt), grain[u]);
        }
    }

    MF expel_any[U];  // expelled this year (steps 7, 8)
    ARTEL_U expel_any[u] = hn::FirstN(df, 0);

    // 7. Bonus and verification.
    if (yc.bonus_on) {
        MF cand[U];
        ARTEL_U {
            alive[u] = ToF(hn::Gt(size[u], hn::Zero(di)));
            cand[u] = hn::And(alive[u], ToF(hn::Ne(coop[u], hn::Zero(di))));
        }
        if (AnyOf<U>(cand)) {
            // One word, nested intervals: a claim if u < c, audited if u < c·a
            // (c = 1 for an active member, false_claim_prob for a passive one).
            const Words* wc = block(kClaim / 4);
            ARTEL_U {
                const VU w = wc[u].w[kClaim % 4];
                const MF genuine = ToF(hn::Eq(coop[u], SetI(2)));
                const MF claim = hn::And(cand[u], hn::Or(genuine, Below(w, yc.t_false)));
                const MF audited = hn::And(claim, Below(w, genuine, yc.t_audit, yc.t_false_audit));
                if (Counting()) CountUsed(cand[u]);
                acc.add(Count::claims, claim);
                acc.add(Count::audits, audited);
                acc.add_const(Real::cost_audit, audited, yc.audit_cost);
                const MF caught = hn::AndNot(genuine, audited);
                coop[u] = hn::IfThenZeroElse(ToI(caught), coop[u]);
                expel_any[u] = hn::Or(expel_any[u], caught);
                acc.add(Count::expulsions, caught);
                const MF paid = hn::AndNot(caught, claim);
                cash[u] = Sel(paid, hn::Add(cash[u], SetF(hc.bonus)), cash[u]);
                acc.add_const(Real::cost_bonus, paid, yc.bonus);
                acc.add_const(Real::leakage, hn::AndNot(genuine, paid), yc.bonus);
            }
        }
    }

    // 8. Credit: subsidy, interest, repayment, default.
    if (mech.credit) {
        MF m[U];
        ARTEL_U {
            alive[u] = ToF(hn::Gt(size[u], hn::Zero(di)));
            m[u] = hn::AndNot(hn::Eq(debt[u], hn::Zero(df)), alive[u]);
        }
        if (AnyOf<U>(m)) {
            ARTEL_U {
                const MF member = ToF(hn::Gt(coop[u], hn::Zero(di)));
                acc.add(Real::cost_interest, hn::And(m[u], member), hn::Mul(SetF(hc.privilege), debt[u]));
                const VF interest = hn::Mul(debt[u], Sel(member, SetF(hc.rate_coop), SetF(hc.rate_private)));
                VF d2 = hn::Add(debt[u], interest);
                const VF repay = Sel(hn::Lt(d2, cash[u]), d2, cash[u]);
                cash[u] = Sel(m[u], hn::Sub(cash[u], repay), cash[u]);
                d2 = hn::Sub(d2, repay);
                const MF def =
                    hn::And(m[u], hn::Gt(d2, Sel(member, SetF(hc.default_coop), SetF(hc.default_private))));
                acc.add(Real::cost_writeoff, hn::And(def, member), d2);
                d2 = hn::IfThenZeroElse(def, d2);
                debt[u] = Sel(m[u], d2, debt[u]);
                acc.add(Count::defaults, def);
                const MF ex = hn::And(def, member);
                coop[u] = hn::IfThenZeroElse(ToI(ex), coop[u]);
                expel_any[u] = hn::Or(expel_any[u], ex);
                acc.add(Count::expulsions, ex);
            }
        }
    }

    // 9. Literacy and trading skill.
    VF lit_share[U];  // literate/adults after step 9, for step 10's activation
    bool have_lit_share = false;
    if (mech.literacy) {
        VI illiterate[U];
        MF act[U], some[U];
        ARTEL_U {
            alive[u] = ToF(hn::Gt(size[u], hn::Zero(di)));
            illiterate[u] = hn::IfThenElseZero(ToI(alive[u]), hn::Sub(adults[u], literate[u]));
            some[u] = ToF(hn::Gt(illiterate[u], hn::Zero(di)));
            act[u] = ToF(hn::Eq(coop[u], SetI(2)));
        }
        if (AnyOf<U>(some)) {
            // Binomial(illiterate, learn) by inversion of one word with a
            // sequential search (rng::BinomialSearch::sample, lane-wise, in
            // double through the halves; most often the first test ends it:
            // nobody learns).
            const LearnConst& lc = *vc.learn;
            const Words* w1 = block(kLearned / 4);
            const bool fits = FitsOneChunk<U>(size);  // illiterate <= size
            ARTEL_U {
                const VI n = illiterate[u];
                const VU w = w1[u].w[kLearned % 4];
                // Tests 1 and 2 of the search in registers (k = 0, 1, 2
                // learners); the exact search in double where some lane goes
                // on (two learners and more illiterates: rare) or the
                // thresholds cannot be held.
                bool exact = !lc.t_other.ok || !lc.t_active.ok;
                VI k = hn::Zero(di);
                if (!exact) {
                    const VI ws = SignFlip(w);
                    const MI a = ToI(act[u]);
                    const MI p0 = hn::Gt(ws, Sel(a, Lookup17(lc.t_active.e0, n, fits), Lookup17(lc.t_other.e0, n, fits)));
                    const MI p1 = hn::Gt(ws, Sel(a, Lookup17(lc.t_active.e1, n, fits), Lookup17(lc.t_other.e1, n, fits)));
                    k = hn::Neg(hn::Add(hn::VecFromMask(di, p0), hn::VecFromMask(di, p1)));
                    exact = !hn::AllFalse(di, hn::And(p1, hn::Gt(n, SetI(2))));
                }
                if (HWY_UNLIKELY(exact)) {
                    dv::VI nh[kHalves], kh[kHalves];
                    dv::VU wh[kHalves];
                    dv::VF ah[kHalves];
                    Halves(n, nh);
                    Halves(w, wh);
                    Halves(Sel(act[u], SetF(1.0f), hn::Zero(df)), ah);
                    for (int q = 0; q < kHalves; ++q)
                        kh[q] = LearnSearch(lc, nh[q], wh[q], hn::Gt(ah[q], hn::Zero(dv::DF())));
                    k = JoinI(kh);
                }
                literate[u] = hn::Add(literate[u], k);
                if (Counting()) CountUsed(some[u]);
            }
        }
        ARTEL_U {
            lit_share[u] = LitShare(literate[u], adults[u]);
            const VF rate = hn::Mul(hn::Mul(SetF(hc.skill_rate), lit_share[u]),
                                    Sel(act[u], SetF(1.0f), SetF(hc.skill_passive)));
            const VF sk = Clip01(hn::Add(skill[u], hn::Mul(rate, hn::Sub(SetF(1.0f), skill[u]))));
            skill[u] = Sel(alive[u], sk, skill[u]);
        }
        have_lit_share = true;
    }

    // 10. Co-operation: joining, activation, lapsing and leaving.
    if (mech.adoption) {
        ARTEL_U alive[u] = ToF(hn::Gt(size[u], hn::Zero(di)));
        if (AnyOf<U>(alive)) {
            const Words* w1 = block(1);
            MF is0[U], is1[U], is2[U], join[U], act[U];
            VI nc[U];
            ARTEL_U {
                const MI c1 = hn::Eq(coop[u], SetI(1));
                const MI c2 = hn::Eq(coop[u], SetI(2));
                is0[u] = hn::And(alive[u], ToF(hn::Eq(coop[u], hn::Zero(di))));
                is2[u] = hn::And(alive[u], ToF(hn::And(c2, hn::Eq(coop_start[u], SetI(2)))));
                is1[u] = hn::And(alive[u], ToF(hn::And(c1, hn::Eq(coop_start[u], SetI(1)))));
                join[u] = hn::And(hn::AndNot(expel_any[u], is0[u]), Below(w1[u].w[0], vc.t_join));
                nc[u] = Sel(join[u], SetI(1), coop[u]);
                act[u] = hn::FirstN(df, 0);
            }
            if (vc.store) {
                MF cand[U];
                ARTEL_U cand[u] = hn::Or(join[u], is1[u]);
                if (AnyOf<U>(cand)) {
                    // the activation rate in float, its hazard in double
                    VF af[U];
                    ARTEL_U af[u] = hn::Add(
                        hn::Add(hn::Add(SetF(hc.a0), hn::Mul(SetF(hc.a_lit), have_lit_share
                                                                                  ? lit_share[u]
                                                                                  : LitShare(literate[u], adults[u]))),
                                hn::Mul(SetF(hc.a_skill), skill[u])),
                        SetF(hc.act_bonus));
                    bool exact = true;
#if HWY_TARGET != HWY_SCALAR
                    // The draw is u < h with u = (w + 1/2)·2^-32 and h the
                    // exact double hazard, which cost 4% of the kernel in
                    // double halves. It is decided in float instead wherever
                    // that is certain: hf = fmath::one_minus_exp_neg(a) is
                    // within 2^-23 of h (tests/test_detmath.cpp checks 2^-22)
                    // and uf = ⌊w/2^8⌋·2^-24 ≤ u < uf + 2^-24, so with the
                    // margin M = 2^-16, uf < hf − M means u < h and
                    // uf > hf + M means u > h (each float operation rounds by
                    // at most 2^-24 here). A vector with a lane in between
                    // (probability about 2^-15 per lane) takes the exact way.
                    constexpr float kMargin = 0x1p-16f;
                    VF hf[U];
                    OneMinusExpNegFK<U>(af, hf);
                    MF yes[U], unsure[U];
                    ARTEL_U {
                        const VF uf = hn::Mul(I2F(hn::BitCast(di, hn::ShiftRight<8>(w1[u].w[1]))), SetF(0x1p-24f));
                        yes[u] = hn::Lt(uf, hn::Sub(hf[u], SetF(kMargin)));
                        const MF no = hn::Gt(uf, hn::Add(hf[u], SetF(kMargin)));
                        unsure[u] = hn::AndNot(hn::Or(yes[u], no), cand[u]);
                    }
                    exact = AnyOf<U>(unsure);
                    if (!exact) {
                        ARTEL_U {
                            act[u] = hn::And(cand[u], yes[u]);
                            nc[u] = Sel(act[u], SetI(2), nc[u]);
                        }
                    }
#endif
                    if (exact) {
                        constexpr int V = U * kHalves;
                        dv::VF a[V], hz[V];
                        dv::VU wa[V];
                        ARTEL_U {
                            Halves(af[u], a + u * kHalves);
                            Halves(w1[u].w[1], wa + u * kHalves);
                        }
                        HazardK<V>(a, hz);
                        ARTEL_U {
                            dv::MF mh[kHalves];
                            for (int q = 0; q < kHalves; ++q)
                                mh[q] = hn::Lt(dv::Uniform(wa[u * kHalves + q]), hz[u * kHalves + q]);
                            act[u] = hn::And(cand[u], JoinM(mh));
                            nc[u] = Sel(act[u], SetI(2), nc[u]);
                        }
                    }
                }
            }
            if (Counting()) {
                ARTEL_U {
                    CountUsed(hn::AndNot(expel_any[u], is0[u]));  // join
                    if (vc.store) CountUsed(hn::Or(join[u], is1[u]));  // activate
                    CountUsed(is2[u]);  // lapse
                    CountUsed(hn::AndNot(act[u], is1[u]));  // leave
                }
            }
            ARTEL_U {
                const MF hungry = ToF(hn::Gt(hunger[u], hn::Zero(di)));
                const MF lapse = hn::And(is2[u], Below(w1[u].w[2], hungry, yc.t_lapse_hungry, yc.t_lapse));
                nc[u] = Sel(lapse, SetI(1), nc[u]);
                const MF leave = hn::And(hn::AndNot(act[u], is1[u]), Below(w1[u].w[2], yc.t_leave));
                coop[u] = hn::IfThenZeroElse(ToI(leave), nc[u]);
            }
        }
    }

    // 11. End-of-year stocks (tally_stocks) and the counts behind M, A, L.
    ARTEL_U {
        alive[u] = ToF(hn::Gt(size[u], hn::Zero(di)));
        const MI ai = ToI(alive[u]);
        const VI one = hn::IfThenElseZero(ai, SetI(1));
        vcnt.add(VillageCounts::kLiving, one);
        vcnt.add(VillageCounts::kPersons, size[u]);  // 0 in dissolved lanes
        vcnt.add(VillageCounts::kMembers, hn::IfThenElseZero(hn::Gt(coop[u], hn::Zero(di)), one));
        vcnt.add(VillageCounts::kPassive, hn::IfThenElseZero(hn::Eq(coop[u], SetI(1)), one));
        vcnt.add(VillageCounts::kActive, hn::IfThenElseZero(hn::Eq(coop[u], SetI(2)), one));
        vcnt.add(VillageCounts::kAdults, hn::IfThenElseZero(ai, adults[u]));
        vcnt.add(VillageCounts::kLiterate, hn::IfThenElseZero(ai, literate[u]));
        acc.add(Count::hungry, hn::And(alive[u], ToF(hn::Gt(hunger[u], hn::Zero(di)))));
        acc.add(Real::grain, alive[u], grain[u]);
        acc.add(Real::cash, alive[u], cash[u]);
        acc.add(Real::debt, alive[u], debt[u]);

        // household_wealth in float
        const VF wealth = Max0(hn::Sub(hn::Add(cash[u], hn::Mul(P, grain[u])), debt[u]));
        // Gini: bin and fixed-point wealth, added to the histogram at the
        // village's end (dissolved lanes go to a spare bin).
        const VI gb = GiniBinF(wealth);
        hn::StoreU(Sel(ai, gb, SetI(kGiniBins)), di, vs.gbin.data() + j + u * N);
        acc.touch(ai, gb);
        {
            dv::VI fx[kHalves];
            vs.gfx_large |= FixedHalves(hn::IfThenElseZero(alive[u], wealth), fx, vs.gfx_limit);
            for (int q = 0; q < kHalves; ++q)
                hn::StoreU(fx[q], dv::DI(), vs.gfx.data() + j + u * N + static_cast<std::size_t>(q) * NH);
        }

        if (partial) {
            size[u] = Sel(valid, size[u], LoadI32(at(base.size, u)));
            adults[u] = Sel(valid, adults[u], LoadI32(at(base.adults, u)));
            literate[u] = Sel(valid, literate[u], LoadI32(at(base.literate, u)));
            coop[u] = Sel(valid, coop[u], LoadI32(at(base.coop, u)));
            hunger[u] = Sel(valid, hunger[u], LoadI32(at(base.hunger, u)));
            grain[u] = Sel(valid, grain[u], hn::LoadU(df, at(base.grain, u)));
            cash[u] = Sel(valid, cash[u], hn::LoadU(df, at(base.cash, u)));
            debt[u] = Sel(valid, debt[u], hn::LoadU(df, at(base.debt, u)));
            skill[u] = Sel(valid, skill[u], hn::LoadU(df, at(base.skill, u)));
        }
        StoreI32(size[u], at(base.size, u));
        StoreI32(adults[u], at(base.adults, u));
        StoreI32(literate[u], at(base.literate, u));
        StoreI32(coop[u], at(base.coop, u));
        StoreI32(hunger[u], at(base.hunger, u));
        hn::StoreU(grain[u], df, at(base.grain, u));
        hn::StoreU(cash[u], df, at(base.cash, u));
        hn::StoreU(debt[u], df, at(base.debt, u));
        hn::StoreU(skill[u], df, at(base.skill, u));
    }
}
#undef ARTEL_U

}  // namespace f32

// ---- per-village constants, N villages at a time ---------------------------------

// rng::bernoulli's threshold (engine/random/threshold.hpp) lane-wise.
HWY_INLINE VI ThresholdV(VF p) {
    const DF df;
    const VF y = hn::Sub(hn::Mul(p, SetF(4294967296.0)), SetF(0.5));
    VI t = RoundShiftedToInt(hn::Add(hn::Ceil(Sel(hn::Lt(y, SetF(4294967296.0)), y, hn::Zero(df))), SetF(0x1.8p52)));
    t = Sel(hn::Ge(y, SetF(4294967296.0)), SetI(std::int64_t{1} << 32), t);
    t = Sel(hn::Le(y, hn::Zero(df)), hn::Zero(DI()), t);
    t = Sel(hn::Not(hn::Gt(p, hn::Zero(df))), hn::Zero(DI()), t);
    return t;
}

// Step 1's organiser word and step 2's V of villages v0 .. v0 + nv - 1
// (village ids vid0 + v).
HWY_NOINLINE void VillageDraws(const StreamConst& org, const StreamConst& wvil, std::uint32_t vid0, std::size_t nv,
                               bool adoption, bool weather, double sigma_V, VillageScratch& vs) {
    const DF df;
    const DU du;
    const std::size_t N = hn::Lanes(df);
    const double c2V = 0.5 * sigma_V * sigma_V;
    for (std::size_t v = 0; v < nv; v += N) {
        // Village streams: entity word = (kind 1 << 30) | village id.
        const VU ids = hn::Or(Ids(static_cast<std::uint64_t>(vid0) + v), SetU(std::uint64_t{1} << 30));
        alignas(64) std::uint64_t wtmp[kMaxN];
        alignas(64) double vtmp[kMaxN];
        const std::size_t m = std::min(N, nv - v);
        if (adoption) {
            const Words4 o = PhiloxEntity(ids, org, 0);
            hn::Store(o.w[0], du, wtmp);
            std::copy_n(wtmp, m, vs.vword.data() + v);
        }
        if (weather) {
            const Words4 ww = PhiloxEntity(ids, wvil, 0);
            const VF xv = hn::Sub(hn::Mul(SetF(sigma_V), NormalZ0(ww.w[0], ww.w[1])), SetF(c2V));
            VF V;
            ExpAutoK<1>(&xv, &V);
            hn::Store(V, df, vtmp);
            std::copy_n(vtmp, m, vs.vV.data() + v);
        } else {
            std::fill_n(vs.vV.data() + v, m, 1.0);
        }
    }
}

// The thresholds of joining (step 10) and learning (step 9) of every village,
// from its store (after step 1), M and L.
// Steps 9 and 10's village probabilities (kernels/village.hpp) and the
// joining threshold, per village.
void VillageThresholds(const Params& p, double privilege, const BlockState& s, VillageScratch& vs) {
    const auto nv = static_cast<std::size_t>(s.villages);
    for (std::size_t v = 0; v < nv; ++v) {
        vs.vjoin[v] = rng::bernoulli_threshold(village::joining(p, s.vil.store[v] != 0, s.vil.M[v], privilege));
        const village::Learning rates = village::learning(p, s.vil.L[v]);
        vs.vlearn_other[v] = rates.other;
        vs.vlearn_active[v] = rates.active;
    }
}

// LearnConst's tests: thresholds of F_0 and F_1 of rng::BinomialSearch::cdf,
// n = 0 … 16, for the other and the active households (F_k = 1 for k >= n;
// F_1 = q^n + (q^n·r)·n, c(n, 0) = n being exact).
HWY_NOINLINE void LearnTests(LearnConst& lc) {
    const DF df;
    const DI di;
    const std::size_t N = hn::Lanes(df);
    MI bad = hn::FirstN(di, 0);
    for (int a = 0; a < 2; ++a) {
        const double* qp = lc.qpow + (a ? LearnConst::kActive : 0);
        const double r = a ? lc.r_active : lc.r_other;
        Tests01& out = a ? lc.t_active : lc.t_other;
        for (std::size_t n0 = 0; n0 < static_cast<std::size_t>(Tests01::kRows); n0 += N) {
            const VI n = hn::Add(hn::Iota(di, 0), SetI(static_cast<std::int64_t>(n0)));
            const MI in = hn::Lt(n, SetI(Tests01::kRows));
            const VF f0 = hn::LoadU(df, qp + n0);  // (rows past 16: ignored)
            const VF F0 = Sel(ToF(hn::Lt(hn::Zero(di), n)), f0, SetF(1.0));
            const VF F1 = Sel(ToF(hn::Lt(SetI(1), n)), hn::Add(f0, hn::Mul(hn::Mul(f0, SetF(r)), I2D(n))), SetF(1.0));
            const VI t0 = ThresholdV(F0), t1 = ThresholdV(F1);
            bad = hn::Or(bad, hn::And(in, hn::Or(hn::Lt(t0, SetI(1)), hn::Lt(t1, SetI(1)))));
            // Tests01::entry lane-wise: (t − 1) ^ 2^31, low 32 bits
            StoreI32(hn::Xor(hn::Sub(t0, SetI(1)), SetI(0x80000000LL)), out.e0 + n0);
            StoreI32(hn::Xor(hn::Sub(t1, SetI(1)), SetI(0x80000000LL)), out.e1 + n0);
        }
    }
    lc.t_other.ok = lc.t_active.ok = hn::AllFalse(di, bad);
}

// ---- the year step ------------------------------------------------------------

void StepYear(const Params& p, const Weather& w, std::int64_t t, BlockState& s, YearScratch& scratch,
              Tally& tally, GiniHistogram& gini, RegionTally* regions) {
    using rng::EntityKind;
    using f32::Thr;
    const std::size_t NH = hn::Lanes(DF());        // households per double-lane vector
    const std::size_t N = hn::Lanes(f32::DF());    // households per float-lane vector
    const auto key = rng::make_key(p.seed);
    const std::uint32_t rep = s.replication;
    const std::uint32_t slot = rng::year_slot(t);
    const auto& mech = p.mechanisms;
    const auto H = static_cast<std::size_t>(s.households);
    const auto n = s.n_households();
    auto& hh = s.hh;
    auto& vil = s.vil;
    scratch.resize(n);
    const auto G = static_cast<std::uint32_t>(p.regions);

    auto sc = [&](Purpose pu) {
        return PrepareStream(rep, (slot << 8) | static_cast<std::uint32_t>(pu), key[0], key[1]);
    };
    YearConst yc{};
    yc.p = &p;
    yc.hc = HouseholdConst::of(p);
    yc.hy = sc(Purpose::HouseholdYear);
    yc.demog = sc(Purpose::Demography);
    yc.t_birth = Thr::of(bernoulli_threshold(p.birth_rate));
    yc.t_school = Thr::of(bernoulli_threshold(p.school_rate));
    {
        auto& bt = scratch.demography;
        bt.set(p);
        yc.b_age = bt.age.thresholds();
        yc.b_school = bt.school.thresholds();
        yc.b_adult_death = bt.adult_death.thresholds();
        yc.b_child_death = bt.child_death.thresholds();
    }
    yc.t_false = Thr::of(bernoulli_threshold(p.false_claim_prob));
    yc.t_audit = Thr::of(bernoulli_threshold(p.audit_prob));
    yc.t_false_audit = Thr::of(bernoulli_threshold(p.false_claim_prob * p.audit_prob));
    yc.audit_cost = f32::FixedConst::of(p.audit_cost);
    yc.bonus = f32::FixedConst::of(p.bonus);
    yc.t_leave = Thr::of(bernoulli_threshold(p.leave_passive));
    yc.t_lapse = Thr::of(bernoulli_threshold(p.lapse_active * 1.0));
    yc.t_lapse_hungry = Thr::of(bernoulli_threshold(p.lapse_active * (1.0 + p.lapse_hunger)));
    fmath::weather_coefficients(p.sigma_H, yc.sigma_Hf, yc.c2Hf);
    const double privilege = p.rate_private - p.rate_coop;
    yc.bonus_on = mech.bonus && p.bonus > 0.0;
    yc.store_hy0 = mech.weather && mech.demography;

    const std::size_t Hpad = (H + N - 1) / N * N;
    VillageScratch& vs = village_scratch();
    vs.reserve(Hpad + N);  // phase E works on an even number of vectors
    vs.b_age.set_table(yc.b_age);
    vs.b_school.set_table(yc.b_school);
    vs.b_adult_death.set_table(yc.b_adult_death);
    vs.b_child_death.set_table(yc.b_child_death);
    yc.q_age = &vs.b_age, yc.q_school = &vs.b_school;
    yc.q_adult_death = &vs.b_adult_death, yc.q_child_death = &vs.b_child_death;

    f32::Acc acc;
    acc.clear();
    bool gini_bad = false;  // a Gini bin's sum did not hold (GiniHistogram::overflow)
    vs.gfx_limit = kFixedMax / static_cast<std::int64_t>(std::max<std::size_t>(n, 1));
    vs.gfx_large = false;
    const bool spill_each_village = (n + N - 1) / N > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max() / 16);
    f32::VillageCounts vcnt;
    std::int64_t persons_start = 0;
    f32::Tail tail;
    const f32::Ptrs hbase = f32::ptrs_at(s, 0);

    // Village draws (N villages per vector), step 1 of every village (its
    // households' demotion is done when the village comes), the thresholds
    // that depend on the store after step 1, and the region constants.
    const auto nvil = static_cast<std::size_t>(s.villages);
    vs.reserve_villages(nvil);
    VillageDraws(PrepareStream(rep, (slot << 8) | static_cast<std::uint32_t>(Purpose::Organiser), key[0], key[1]),
                 PrepareStream(rep, (slot << 8) | static_cast<std::uint32_t>(Purpose::WeatherVillage), key[0], key[1]),
                 s.village_id(0), nvil, mech.adoption, mech.weather, p.sigma_V, vs);
    for (std::size_t vi = 0; vi < nvil; ++vi) {
        vs.vclosed[vi] = 0;
        if (!mech.adoption) continue;
        const auto word = static_cast<std::uint32_t>(vs.vword[vi]);
        if (Counting() && (!vil.store[vi] || vil.A[vi] < p.store_min_share)) ++artel::model::simd::detail::counts().used;
        if (!vil.store[vi]) {
            if (village::store_opens(word, p)) vil.store[vi] = 1;
        } else if (village::store_closes(word, p, vil.A[vi])) {
            vil.store[vi] = 0;
            vs.vclosed[vi] = 1;
        }
    }
    if (mech.adoption || mech.literacy) VillageThresholds(p, privilege, s, vs);
    if (Counting()) artel::model::simd::detail::counts().used += static_cast<std::int64_t>(nvil) * (mech.weather ? 2 : 0);
    struct RegionConst {
        double R, P, state_share, one_minus_share, p_coop, p_other;
    };
    std::array<RegionConst, 64> region_small{};
    std::vector<RegionConst> region_big;
    RegionConst* region = region_small.data();
    if (G > region_small.size()) region_big.resize(G), region = region_big.data();
    for (std::uint32_t g = 0; g < G; ++g) {
        auto& rc = region[g];
        const auto wi = w.at(t, g);
        rc.R = w.R[wi];
        rc.P = w.P[wi];
        if (mech.market) {
            const village::Market m = village::market(p, rc.P);
            rc.p_coop = m.p_coop;
            rc.state_share = m.state_share;
            rc.one_minus_share = 1.0 - m.state_share;
            rc.p_other = m.p_other;
        }
    }

    for (std::int64_t v = 0; v < s.villages; ++v) {
        const auto vi = static_cast<std::size_t>(v);
        const std::uint32_t vid = s.village_id(v);
        const std::uint32_t g = vid % G;
        const std::size_t b = vi * H, e = b + H;
        const std::uint32_t id_b = s.household_id(b);
        VillageConst vc{};
        std::uint64_t region_c0[RegionTally::kCounts.size()] = {}, region_r0[RegionTally::kReals.size()] = {};
        if (regions) acc.region_sums(region_c0, region_r0);

        // 1. Organisers: a store that closed demotes its active members.
        if (vs.vclosed[vi]) {
            vc.closed = true;
            for (std::size_t i = b; i < e; ++i) {
                vs.coop_start[i - b] = hh.coop[i];
                if (hh.size[i] > 0 && hh.coop[i] == 2) hh.coop[i] = 1;
            }
            for (std::size_t l = H; l < Hpad; ++l) vs.coop_start[l] = 0;
        }

        // 2. Weather of the village.
        const RegionConst& rc = region[g];
        vc.R = rc.R;
        vc.P = rc.P;
        vc.V = vs.vV[vi];
        vc.Rf = static_cast<float>(vc.R), vc.Pf = static_cast<float>(vc.P), vc.Vf = static_cast<float>(vc.V);

        // Phase E, then pass A: 3 and 4(a).
        if (mech.weather) {
            std::size_t j = 0;
            // The village's vectors in groups of kE (= 4), the last of 2 if
            // the count is not a multiple of 4 (rounded up to an even count:
            // a float vector holds two double vectors' households; the
            // scratch is padded for it).
            const std::size_t C = Hpad / NH;
            for (; j + kE <= C; j += kE) PhaseE<kE>(j * NH, id_b + static_cast<std::uint32_t>(j * NH), yc, vs);
            for (; j < C; j += 2) PhaseE<2>(j * NH, id_b + static_cast<std::uint32_t>(j * NH), yc, vs);
        }
        double levy_sum = 0.0, shortfall_sum = 0.0;
        {
            std::size_t j = 0;
            for (; j + N <= H; j += N) f32::PassA(hbase, b + j, j, N, yc, vc, vs, acc, persons_start, levy_sum, shortfall_sum);
            if (j < H) {
                if (b + j + N <= n) {  // the vector runs into the next village: in place
                    f32::PassA(hbase, b + j, j, H - j, yc, vc, vs, acc, persons_start, levy_sum, shortfall_sum);
                } else {  // past the block's end: a padded copy
                    f32::PassA(tail.load(s, b + j, H - j), 0, j, N, yc, vc, vs, acc, persons_start, levy_sum, shortfall_sum);
                    tail.store(s, b + j, H - j);
                }
            }
        }
        vil.reserve[vi] += levy_sum;
        vc.c = 0.0;
        if (mech.reserve && shortfall_sum > 0.0 && vil.reserve[vi] > 0.0)
            vc.c = std::min(1.0, vil.reserve[vi] / shortfall_sum);
        vc.cf = static_cast<float>(vc.c);

        // Village constants of steps 6, 9, 10.
        vc.store = vil.store[vi] != 0;
        vc.p_coop = static_cast<float>(rc.p_coop);
        vc.state_share = static_cast<float>(rc.state_share);
        vc.one_minus_share = static_cast<float>(rc.one_minus_share);
        vc.p_other = static_cast<float>(rc.p_other);
        if (mech.literacy) {
            vs.learn.set(vs.vlearn_other[vi], vs.vlearn_active[vi]);
            LearnTests(vs.learn);
            vc.learn = &vs.learn;
        }
        vc.t_join = Thr::of(vs.vjoin[vi]);

        // Pass B: 4(b)–10 and the stocks, kB vectors at a time.
        double drawn_sum = 0.0;
        vcnt.clear();
        {
            std::size_t j = 0;
            for (; j + kB * N <= H; j += kB * N)
                f32::PassB<kB>(hbase, b + j, j, id_b + static_cast<std::uint32_t>(j), N, yc, vc, vs, acc, vcnt, drawn_sum);
            for (; j + N <= H; j += N)
                f32::PassB<1>(hbase, b + j, j, id_b + static_cast<std::uint32_t>(j), N, yc, vc, vs, acc, vcnt, drawn_sum);
            if (j < H) {
                const auto id_j = id_b + static_cast<std::uint32_t>(j);
                if (b + j + N <= n) {
                    f32::PassB<1>(hbase, b + j, j, id_j, H - j, yc, vc, vs, acc, vcnt, drawn_sum);
                } else {
                    f32::PassB<1>(tail.load(s, b + j, H - j), 0, j, id_j, N, yc, vc, vs, acc, vcnt, drawn_sum);
                    tail.store(s, b + j, H - j);
                }
            }
        }
        // The bins' sums, checked against kFixedMax (GiniHistogram) in a
        // village where some household's wealth is above kFixedMax / n (2.2e9
        // roubles in a block of 2000 households) or invalid. Otherwise the n
        // households of the block add at most kFixedMax to a bin, and less
        // than that after a checked village left the bin within kFixedMax:
        // no sum wraps, and add_range below checks the limit.
        if (HWY_LIKELY(!vs.gfx_large)) {
            for (std::size_t i = 0; i < H; ++i) {
                const auto bin = static_cast<std::size_t>(vs.gbin[i]);
                vs.gn[bin] += 1;
                vs.gsum[bin] += vs.gfx[i];
            }
        } else {
            for (std::size_t i = 0; i < H; ++i) {
                const auto bin = static_cast<std::size_t>(vs.gbin[i]);
                vs.gn[bin] += 1;
                // wealth >= 0: a negative value is FixedHalves' kFixedInvalid
                gini_bad |= (vs.gfx[i] < 0) | __builtin_add_overflow(vs.gsum[bin], vs.gfx[i], &vs.gsum[bin]) |
                            (vs.gsum[bin] > kFixedMax);
            }
            vs.gfx_large = false;
        }
        vil.reserve[vi] = std::max(0.0, vil.reserve[vi] - drawn_sum);
        // 11. Year end.
        vil.reserve[vi] *= 1.0 - p.reserve_decay;
        const std::int64_t living = vcnt.sum(f32::VillageCounts::kLiving), members = vcnt.sum(f32::VillageCounts::kMembers),
                           active = vcnt.sum(f32::VillageCounts::kActive), adults = vcnt.sum(f32::VillageCounts::kAdults),
                           literate = vcnt.sum(f32::VillageCounts::kLiterate);
        vil.M[vi] = living ? static_cast<double>(members) / static_cast<double>(living) : 0.0;
        vil.A[vi] = living ? static_cast<double>(active) / static_cast<double>(living) : 0.0;
        vil.L[vi] = adults ? static_cast<double>(literate) / static_cast<double>(adults) : 0.0;
        acc.count[static_cast<int>(Count::living)] += living;
        acc.count[static_cast<int>(Count::persons)] += vcnt.sum(f32::VillageCounts::kPersons);
        acc.count[static_cast<int>(Count::passive)] += vcnt.sum(f32::VillageCounts::kPassive);
        acc.count[static_cast<int>(Count::active)] += active;
        acc.count[static_cast<int>(Count::adults)] += adults;
        acc.count[static_cast<int>(Count::literate)] += literate;
        acc.count[static_cast<int>(Count::stores_open)] += vil.store[vi];
        acc.add_one(Real::reserve, vil.reserve[vi]);
        if (regions) acc.add_region_share(region_c0, region_r0, regions[g]);
        if (spill_each_village) acc.spill();
    }
    acc.count[static_cast<int>(Count::persons_start)] += persons_start;
    acc.flush(tally);
    // the bins this year's living households touched (dissolved lanes went to
    // the spare bin kGiniBins)
    // (without a branch on empty bins, which are many and unpredictable:
    // adding their zeros changes nothing)
    const int lo = static_cast<int>(acc.bins_lo()), hi = static_cast<int>(acc.bins_hi());
    if (lo < hi) {
        gini.add_range(lo, hi, vs.gn.data(), vs.gsum.data());
        std::fill(vs.gn.begin() + lo, vs.gn.begin() + hi, 0);
        std::fill(vs.gsum.begin() + lo, vs.gsum.begin() + hi, 0);
    }
    vs.gn[kGiniBins] = 0, vs.gsum[kGiniBins] = 0;
    gini.overflow |= gini_bad;
}

// ---- the initial block (init_block) --------------------------------------------

// rng::gamma_mt lane-wise: every lane draws attempts from its own block
// (next[lane], advanced by one block per attempt, as the scalar sampler
// advances by four words) until it accepts; returns Gamma(shape) and leaves
// next after the accepted attempt. The scalar checks (shape, attempts) apply.
HWY_INLINE VF GammaLanes(double shape, VU ids, const StreamConst& sc, VU& next, MF active) {
    const DF df;
    const DU du;
    if (!(shape > 0.0) || !(shape < std::numeric_limits<double>::infinity()))
        throw std::invalid_argument("gamma_mt: shape must be positive and finite");
    const bool boost = shape < 1.0;
    const double a = boost ? shape + 1.0 : shape;
    const double d = a - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    VF x = hn::Zero(df);
    MF todo = active;
    for (int attempt = 0; attempt < 1000; ++attempt) {
        if (hn::AllFalse(df, todo)) return x;
        const Words4 w = Philox(SetU(sc.ctr0), ids, SetU(sc.ctr2), next, sc.key0, sc.key1);
        next = Sel(todo, hn::Add(next, SetU(1)), next);
        const VF z = NormalZ0(w.w[0], w.w[1]);
        const VF u = Uniform(w.w[2]);
        const VF t = hn::Add(SetF(1.0), hn::Mul(SetF(c), z));
        const VF v = hn::Mul(hn::Mul(t, t), t);
        const VF z2 = hn::Mul(z, z);
        const MF positive = hn::Gt(t, hn::Zero(df));
        const MF squeeze = hn::Lt(u, hn::Sub(SetF(1.0), hn::Mul(SetF(0.0331), hn::Mul(z2, z2))));
        // The full test (two logs) only where some lane needs it: the squeeze
        // fails in a lane with probability E[min(1, 0.0331 z^4)] < 0.1, so
        // all four lanes of an AVX2 vector pass it in at least two thirds
        // of the attempts.
        MF full = hn::FirstN(df, 0);
        if (!hn::AllFalse(df, hn::AndNot(squeeze, hn::And(todo, positive)))) {
            const VF logv = Log(Sel(positive, v, SetF(1.0)));
            full = hn::Lt(Log(u), hn::Add(hn::Mul(SetF(0.5), z2),
                                          hn::Mul(SetF(d), hn::Add(hn::Sub(SetF(1.0), v), logv))));
        }
        const MF accept = hn::And(todo, hn::And(positive, hn::Or(squeeze, full)));
        VF xa = hn::Mul(SetF(d), v);
        if (boost) xa = hn::Mul(xa, Exp(hn::Div(Log(Uniform(w.w[3])), SetF(shape))));
        x = Sel(accept, xa, x);
        todo = hn::AndNot(accept, todo);
    }
    if (!hn::AllFalse(df, todo))
        throw std::runtime_error("gamma_mt: no acceptance after 1000 attempts (shape = " + std::to_string(shape) +
                                 ")");
    (void)du;
    return x;
}

void InitBlock(const Params& p, BlockState& s) {
    using rng::EntityKind;
    const DF df;
    const DI di;
    const DU du;
    const std::size_t N = hn::Lanes(df);
    const auto key = rng::make_key(p.seed);
    const std::uint32_t rep = s.replication, slot = rng::kInitSlot;
    const auto H = static_cast<std::size_t>(s.households);
    const std::size_t n = s.n_households();
    auto& hh = s.hh;
    for (std::int64_t v = 0; v < s.villages; ++v) {
        const auto vi = static_cast<std::size_t>(v);
        const rng::Stream st(key, rep, EntityKind::Village, s.village_id(v), slot,
                             static_cast<std::uint32_t>(Purpose::InitStore));
        s.vil.store[vi] = rng::bernoulli(st.word(0), p.store0) ? 1 : 0;
        s.vil.reserve[vi] = 0.0;
    }
    auto sc = [&](Purpose pu) { return PrepareStream(rep, (slot << 8) | static_cast<std::uint32_t>(pu), key[0], key[1]); };
    const StreamConst s_size = sc(Purpose::InitSize), s_adults = sc(Purpose::InitAdults),
                      s_lit = sc(Purpose::InitLiterate), s_land = sc(Purpose::InitLand), s_coop = sc(Purpose::InitCoop),
                      s_skill = sc(Purpose::InitSkill);
    // rng::poisson_inversion(mean, w, 15): F_0..F_14 are the same for every
    // household; F is nondecreasing, so the result is the number of F_j < u.
    constexpr int kCap = 15;
    const double mean = p.size_mean - 1.0;
    double F[kCap];
    {
        double pk = dmath::exp(-mean);
        double Fk = pk;
        F[0] = Fk;
        for (int k = 1; k < kCap; ++k) {
            pk = (pk * mean) / static_cast<double>(k);
            Fk = Fk + pk;
            F[k] = Fk;
        }
    }
    const VI t_adult = SetI(bernoulli_threshold(p.adult_share)), t_lit = SetI(bernoulli_threshold(p.literacy0));
    const VI t_active = SetI(bernoulli_threshold(p.active0)),
             t_passive = SetI(bernoulli_threshold(p.passive0 / (1.0 - p.active0)));
    const double c2L = 0.5 * p.land_sigma * p.land_sigma;
    const std::uint32_t id0 = s.household_id(0);
    alignas(64) std::int64_t store_lane[kMaxN];
    alignas(64) std::int64_t o_size[kMaxN], o_adults[kMaxN], o_lit[kMaxN], o_coop[kMaxN];
    alignas(64) double o_land[kMaxN], o_grain[kMaxN], o_skill[kMaxN];
    for (std::size_t i = 0; i < n; i += N) {
        const std::size_t m = std::min(N, n - i);
        const VU ids = Ids(static_cast<std::uint64_t>(id0) + i);
        const MF valid = hn::FirstN(df, m);
        // size
        const Words4 ws = PhiloxEntity(ids, s_size, 0);
        const VF u = Uniform(ws.w[0]);
        VI size = SetI(1);
        for (int j = 0; j < kCap; ++j) size = hn::Sub(size, hn::VecFromMask(di, ToI(hn::Gt(u, SetF(F[j])))));
        // adults = 1 + Binomial(size - 1, adult_share) on words 0 .. size - 2
        const VI nA = hn::Sub(size, SetI(1));
        VI adults = SetI(1);
        {
            const std::int64_t nmax = hn::GetLane(hn::MaxOfLanes(di, nA));
            Words4 w{};
            for (std::int64_t k = 0; k < nmax; ++k) {
                if ((k & 3) == 0) w = PhiloxEntity(ids, s_adults, static_cast<std::uint32_t>(k >> 2));
                const MI hit = hn::And(hn::Lt(SetI(k), nA), hn::Lt(hn::BitCast(di, w.w[k & 3]), t_adult));
                adults = hn::Sub(adults, hn::VecFromMask(di, hit));
            }
        }
        // literate = Binomial(adults, literacy0) on words 0 .. adults - 1
        VI literate = hn::Zero(di);
        {
            const std::int64_t nmax = hn::GetLane(hn::MaxOfLanes(di, adults));
            Words4 w{};
            for (std::int64_t k = 0; k < nmax; ++k) {
                if ((k & 3) == 0) w = PhiloxEntity(ids, s_lit, static_cast<std::uint32_t>(k >> 2));
                const MI hit = hn::And(hn::Lt(SetI(k), adults), hn::Lt(hn::BitCast(di, w.w[k & 3]), t_lit));
                literate = hn::Sub(literate, hn::VecFromMask(di, hit));
            }
        }
        // land
        const Words4 wl = PhiloxEntity(ids, s_land, 0);
        const VF z = NormalZ0(wl.w[0], wl.w[1]);
        const VF sized = I2D(size);
        const VF land = hn::Mul(hn::Mul(SetF(p.land_mean), hn::Div(sized, SetF(p.size_mean))),
                                Exp(hn::Sub(hn::Mul(SetF(p.land_sigma), z), SetF(c2L))));
        const VF need = hn::Add(hn::Mul(sized, SetF(p.food_need)), hn::Mul(land, SetF(p.seed_need)));
        // co-operative status
        for (std::size_t l = 0; l < N; ++l) store_lane[l] = l < m ? s.vil.store[(i + l) / H] : 0;
        const Words4 wc = PhiloxEntity(ids, s_coop, 0);
        const MI act = hn::Lt(hn::BitCast(di, wc.w[0]), t_active);
        const MI pas = hn::Lt(hn::BitCast(di, wc.w[1]), t_passive);
        const VI coop = Sel(act, Sel(hn::Ne(hn::Load(di, store_lane), hn::Zero(di)), SetI(2), SetI(1)),
                            Sel(pas, SetI(1), hn::Zero(di)));
        // skill = Beta(skill_a, skill_b) = X / (X + Y), Y from where X stopped
        VU next = hn::Zero(du);
        const VF X = GammaLanes(p.skill_a, ids, s_skill, next, valid);
        const VF Y = GammaLanes(p.skill_b, ids, s_skill, next, valid);
        const VF skill = hn::Div(X, hn::Add(X, Y));

        hn::Store(size, di, o_size);
        hn::Store(adults, di, o_adults);
        hn::Store(literate, di, o_lit);
        hn::Store(coop, di, o_coop);
        hn::Store(land, df, o_land);
        hn::Store(hn::Mul(SetF(p.grain0), need), df, o_grain);
        hn::Store(skill, df, o_skill);
        for (std::size_t l = 0; l < m; ++l) {
            hh.size[i + l] = static_cast<std::int32_t>(o_size[l]);
            hh.adults[i + l] = static_cast<std::int32_t>(o_adults[l]);
            hh.literate[i + l] = static_cast<std::int32_t>(o_lit[l]);
            hh.coop[i + l] = static_cast<std::int32_t>(o_coop[l]);
            hh.land[i + l] = static_cast<float>(o_land[l]);
            hh.grain[i + l] = static_cast<float>(o_grain[l]);
            hh.cash[i + l] = static_cast<float>(p.cash0);
            hh.debt[i + l] = 0.0f;
            hh.skill[i + l] = static_cast<float>(o_skill[l]);
            hh.hunger[i + l] = 0;
        }
    }
    // village_aggregates
    for (std::int64_t v = 0; v < s.villages; ++v) {
        std::int64_t living = 0, members = 0, active = 0, adults = 0, literate = 0;
        const std::size_t b = static_cast<std::size_t>(v) * H;
        for (std::size_t i = b; i < b + H; ++i) {
            if (hh.size[i] == 0) continue;
            ++living;
            members += hh.coop[i] >= 1;
            active += hh.coop[i] == 2;
            adults += hh.adults[i];
            literate += hh.literate[i];
        }
        const auto vi = static_cast<std::size_t>(v);
        s.vil.M[vi] = living ? static_cast<double>(members) / static_cast<double>(living) : 0.0;
        s.vil.A[vi] = living ? static_cast<double>(active) / static_cast<double>(living) : 0.0;
        s.vil.L[vi] = adults ? static_cast<double>(literate) / static_cast<double>(adults) : 0.0;
    }
}

// ---- hooks for tests and benchmarks -----------------------------------------

void PhiloxBlocks(const rng::Key& key, const rng::Counter* ctr, rng::Block* out, std::size_t n) {
    const DU du;
    const std::size_t N = hn::Lanes(du);
    alignas(64) std::uint64_t c[4][kMaxN], o[4][kMaxN];
    for (std::size_t i = 0; i < n; i += N) {
        const std::size_t m = std::min(N, n - i);
        for (std::size_t l = 0; l < N; ++l)
            for (int k = 0; k < 4; ++k) c[k][l] = l < m ? ctr[i + l][static_cast<std::size_t>(k)] : 0;
        const Words4 w = Philox(hn::Load(du, c[0]), hn::Load(du, c[1]), hn::Load(du, c[2]), hn::Load(du, c[3]),
                                key[0], key[1]);
        for (int k = 0; k < 4; ++k) hn::Store(w.w[k], du, o[k]);
        for (std::size_t l = 0; l < m; ++l)
            for (int k = 0; k < 4; ++k) out[i + l][static_cast<std::size_t>(k)] = static_cast<std::uint32_t>(o[k][l]);
    }
}

// kind: 0 words, 1 uniforms, 2 normals. Output word-major:
// out[(b·4 + k)·households + h].
template <int kKind>
void HouseholdDraws(const rng::Key& key, std::uint32_t rep, std::uint32_t first, std::size_t households,
                    std::uint32_t slot_purpose, std::uint32_t blocks, void* out_v) {
    const DU du;
    const DF df;
    const std::size_t N = hn::Lanes(du);
    const StreamConst sc = PrepareStream(rep, slot_purpose, key[0], key[1]);
    for (std::size_t h = 0; h < households; h += N) {
        const std::size_t m = std::min(N, households - h);
        const VU ids = Ids(static_cast<std::uint64_t>(first) + h);
        Words4 wk[4];
        for (std::uint32_t b = 0; b < blocks; ++b) {
            if (b % 4 == 0) {
                const std::uint32_t bl[4] = {b, b + 1, b + 2, b + 3};
                if (blocks - b >= 4) PhiloxEntityK<4>(ids, sc, bl, wk);
                else if (blocks - b >= 2) PhiloxEntityK<2>(ids, sc, bl, wk), PhiloxEntityK<1>(ids, sc, bl + 2, wk + 2);
                else PhiloxEntityK<1>(ids, sc, bl, wk);
            }
            const Words4& w = wk[b % 4];
            for (int k = 0; k < 4; ++k) {
                const std::size_t at = (static_cast<std::size_t>(b) * 4 + static_cast<std::size_t>(k)) * households + h;
                if constexpr (kKind == 0) {
                    auto* out = static_cast<std::uint32_t*>(out_v);
#if HWY_TARGET != HWY_SCALAR
                    if (m == N) {
                        const hn::Rebind<std::uint32_t, DU> d32;
                        hn::StoreU(hn::TruncateTo(d32, w.w[k]), d32, out + at);
                        continue;
                    }
#endif
                    alignas(64) std::uint64_t tmp[kMaxN];
                    hn::Store(w.w[k], du, tmp);
                    for (std::size_t l = 0; l < m; ++l) out[at + l] = static_cast<std::uint32_t>(tmp[l]);
                } else if constexpr (kKind == 1) {
                    auto* out = static_cast<double*>(out_v);
                    if (m == N) {
                        hn::StoreU(Uniform(w.w[k]), df, out + at);
                    } else {
                        alignas(64) double tmp[kMaxN];
                        hn::Store(Uniform(w.w[k]), df, tmp);
                        std::copy_n(tmp, m, out + at);
                    }
                }
            }
            if constexpr (kKind == 2) {
                auto* out = static_cast<double*>(out_v);
                VF z[4];
                NormalPair(w.w[0], w.w[1], z[0], z[1]);
                NormalPair(w.w[2], w.w[3], z[2], z[3]);
                for (int k = 0; k < 4; ++k) {
                    const std::size_t at =
                        (static_cast<std::size_t>(b) * 4 + static_cast<std::size_t>(k)) * households + h;
                    if (m == N) {
                        hn::StoreU(z[k], df, out + at);
                    } else {
                        alignas(64) double tmp[kMaxN];
                        hn::Store(z[k], df, tmp);
                        std::copy_n(tmp, m, out + at);
                    }
                }
            }
        }
    }
}

void HouseholdWords(const rng::Key& key, std::uint32_t rep, std::uint32_t first, std::size_t households,
                    std::uint32_t slot_purpose, std::uint32_t blocks, void* out) {
    HouseholdDraws<0>(key, rep, first, households, slot_purpose, blocks, out);
}
void HouseholdUniforms(const rng::Key& key, std::uint32_t rep, std::uint32_t first, std::size_t households,
                       std::uint32_t slot_purpose, std::uint32_t blocks, void* out) {
    HouseholdDraws<1>(key, rep, first, households, slot_purpose, blocks, out);
}
void HouseholdNormals(const rng::Key& key, std::uint32_t rep, std::uint32_t first, std::size_t households,
                      std::uint32_t slot_purpose, std::uint32_t blocks, void* out) {
    HouseholdDraws<2>(key, rep, first, households, slot_purpose, blocks, out);
}

void MathLanes(int f, const double* in, double* out, std::size_t n) {
    const DF df;
    const DI di;
    const DU du;
    const std::size_t N = hn::Lanes(df);
    alignas(64) double a[kMaxN], r[kMaxN];
    if (f == 8 || f == 9 || f == 10) {  // fmath's normal_z0, exp_small, one_minus_exp_neg: two double vectors' lanes per float vector
        alignas(64) std::uint64_t b0[2 * kMaxN], b1[2 * kMaxN];
        alignas(64) double r2[2 * kMaxN];
        for (std::size_t i = 0; i < n; i += 2 * N) {
            const std::size_t m = std::min(2 * N, n - i);
            for (std::size_t l = 0; l < 2 * N; ++l) {
                const std::uint64_t bits = l < m ? std::bit_cast<std::uint64_t>(in[i + l]) : 0;
                b0[l] = bits >> 32;
                b1[l] = bits & 0xFFFFFFFFull;
            }
#if HWY_TARGET == HWY_SCALAR
            for (std::size_t l = 0; l < 2; ++l)
                r2[l] = f == 8    ? fmath::normal_z0(static_cast<std::uint32_t>(b0[l]), static_cast<std::uint32_t>(b1[l]))
                        : f == 9 ? fmath::exp_small(static_cast<float>(l < m ? in[i + l] : 0.0))
                                 : fmath::one_minus_exp_neg(static_cast<float>(l < m ? in[i + l] : 0.0));
#else
            const VU32 w0 = PackWords(hn::Load(du, b0), hn::Load(du, b0 + N));
            const VU32 w1 = PackWords(hn::Load(du, b1), hn::Load(du, b1 + N));
            VF32 z;
            if (f == 8) {
                NormalZ0FK<1>(&w0, &w1, &z);
            } else {
                const DF32 d32;
                alignas(64) float xs[2 * kMaxN];
                for (std::size_t l = 0; l < 2 * N; ++l) xs[l] = static_cast<float>(l < m ? in[i + l] : 0.0);
                const VF32 x = hn::Load(d32, xs);
                if (f == 9)
                    ExpSmallFK<1>(&x, &z);
                else
                    OneMinusExpNegFK<1>(&x, &z);
            }
            VF lo, hi;
            Widen(z, lo, hi);
            hn::Store(lo, df, r2);
            hn::Store(hi, df, r2 + N);
#endif
            std::copy_n(r2, m, out + i);
        }
        return;
    }
    for (std::size_t i = 0; i < n; i += N) {
        const std::size_t m = std::min(N, n - i);
        for (std::size_t l = 0; l < N; ++l) a[l] = l < m ? in[i + l] : 0.0;
        const VF x = hn::Load(df, a);
        VF y;
        switch (f) {
            case 0: ExpAutoK<1>(&x, &y); break;
            case 1: y = Log(x); break;
            case 2: {
                VF s, c;
                SinCos2Pi<true>(x, s, c);
                y = s;
                break;
            }
            case 3: {
                VF s, c;
                SinCos2Pi<true>(x, s, c);
                y = c;
                break;
            }
            case 4: y = OneMinusExpNeg(x); break;
            case 5: {
                const VU bits = hn::BitCast(du, x);
                y = NormalZ0(hn::ShiftRight<32>(bits), hn::And(bits, SetU(0xFFFFFFFFull)));
                break;
            }
            case 6: y = hn::BitCast(df, ToFixed(x)); break;
            case 7: y = I2D(GiniBin(x)); break;
            default: y = x;
        }
        (void)di;
        hn::Store(y, df, r);
        std::copy_n(r, m, out + i);
    }
}

std::size_t LanesOf() { return hn::Lanes(DF()); }

#undef ARTEL_U

}  // namespace HWY_NAMESPACE
}  // namespace simd_detail
}  // namespace model
}  // namespace artel
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace artel::model {
namespace simd_detail {
namespace {

struct TargetOps {
    std::int64_t target;
    const char* name;
    StepFn step;
    InitFn init;
    PhiloxBlocksFn philox_blocks;
    HouseholdFn words, uniforms, normals;
    MathFnPtr math;
    LanesFn lanes;
};

#define ARTEL_SIMD_ENTRY(TARGET, NS, NAME)                                                               \
    TargetOps {                                                                                          \
        TARGET, NAME, &NS::StepYear, &NS::InitBlock, &NS::PhiloxBlocks, &NS::HouseholdWords, &NS::HouseholdUniforms,     \
            &NS::HouseholdNormals, &NS::MathLanes, &NS::LanesOf                                          \
    }

// Best first.
const TargetOps kTargets[] = {
#if HWY_TARGETS & HWY_AVX3_DL
    ARTEL_SIMD_ENTRY(HWY_AVX3_DL, N_AVX3_DL, "avx3_dl"),
#endif
#if HWY_TARGETS & HWY_AVX3
    ARTEL_SIMD_ENTRY(HWY_AVX3, N_AVX3, "avx3"),
#endif
#if HWY_TARGETS & HWY_AVX2
    ARTEL_SIMD_ENTRY(HWY_AVX2, N_AVX2, "avx2"),
#endif
#if HWY_TARGETS & HWY_SSE4
    ARTEL_SIMD_ENTRY(HWY_SSE4, N_SSE4, "sse4"),
#endif
#if HWY_TARGETS & HWY_SSSE3
    ARTEL_SIMD_ENTRY(HWY_SSSE3, N_SSSE3, "ssse3"),
#endif
#if HWY_TARGETS & HWY_EMU128
    ARTEL_SIMD_ENTRY(HWY_EMU128, N_EMU128, "emu128"),
#endif
#if HWY_TARGETS & HWY_SCALAR
    ARTEL_SIMD_ENTRY(HWY_SCALAR, N_SCALAR, "scalar"),
#endif
};
#undef ARTEL_SIMD_ENTRY
constexpr int kNumTargets = static_cast<int>(sizeof(kTargets) / sizeof(kTargets[0]));

// hwy::SupportedTargets runs CPUID (slow under a hypervisor): ask once.
std::int64_t supported_mask() {
    static const std::int64_t mask = hwy::SupportedTargets();
    return mask;
}

bool supported(const TargetOps& op) {
    if (op.target == HWY_SCALAR || op.target == HWY_EMU128) return true;
    return (supported_mask() & op.target) != 0;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Index into kTargets of a name; throws for unknown or unsupported names.
int resolve(const std::string& raw) {
    std::string name = lower(raw);
    if (name.empty() || name == "auto" || name == "best") {
        for (int i = 0; i < kNumTargets; ++i)
            if (supported(kTargets[i])) return i;
        throw std::invalid_argument("SIMD: no usable instruction set");
    }
    if (name == "avx512") name = "avx3";
    if (name == "scalar-simd" || name == "emu128" || name == "scalar") {
        for (int i = 0; i < kNumTargets; ++i)
            if (kTargets[i].target == HWY_SCALAR || kTargets[i].target == HWY_EMU128) return i;
    }
    for (int i = 0; i < kNumTargets; ++i) {
        if (name != kTargets[i].name) continue;
        if (!supported(kTargets[i]))
            throw std::invalid_argument("SIMD instruction set '" + raw + "' is not supported by this CPU");
        return i;
    }
    std::string known;
    for (int i = 0; i < kNumTargets; ++i) known += std::string(i ? ", " : "") + kTargets[i].name;
    throw std::invalid_argument("unknown SIMD instruction set '" + raw + "' (auto, " + known + ")");
}

std::atomic<int>& chosen() {
    static std::atomic<int> index{[] {
        const char* env = std::getenv("ARTEL_SIMD");
        return resolve(env ? std::string(env) : std::string("auto"));
    }()};
    return index;
}

const TargetOps& ops(const std::string& name) {
    if (name.empty()) return kTargets[chosen().load(std::memory_order_relaxed)];
    return kTargets[resolve(name)];
}

}  // namespace
}  // namespace simd_detail

void step_year_simd(const Params& p, const Weather& w, std::int64_t t, BlockState& s, YearScratch& scratch,
                    Tally& tally, GiniHistogram& gini, RegionTally* regions) {
    simd_detail::kTargets[simd_detail::chosen().load(std::memory_order_relaxed)].step(p, w, t, s, scratch, tally,
                                                                                       gini, regions);
}

void init_block_simd(const Params& p, BlockState& s) {
    simd_detail::kTargets[simd_detail::chosen().load(std::memory_order_relaxed)].init(p, s);
}

void set_simd_target(const std::string& name) {
    const int i = simd_detail::resolve(name);
    simd_detail::chosen().store(i, std::memory_order_relaxed);
}

std::string simd_target() { return simd_detail::kTargets[simd_detail::chosen().load()].name; }

std::vector<std::string> available_simd_targets() {
    std::vector<std::string> out;
    for (const auto& op : simd_detail::kTargets)
        if (simd_detail::supported(op)) out.emplace_back(op.name);
    return out;
}

namespace simd {

void philox_blocks(const std::string& target, const rng::Key& key, const rng::Counter* ctr, rng::Block* out,
                   std::size_t n) {
    simd_detail::ops(target).philox_blocks(key, ctr, out, n);
}
void household_words(const std::string& target, const rng::Key& key, std::uint32_t rep, std::uint32_t first,
                     std::size_t households, std::uint32_t slot_purpose, std::uint32_t blocks, std::uint32_t* out) {
    simd_detail::ops(target).words(key, rep, first, households, slot_purpose, blocks, out);
}
void household_uniforms(const std::string& target, const rng::Key& key, std::uint32_t rep, std::uint32_t first,
                        std::size_t households, std::uint32_t slot_purpose, std::uint32_t blocks, double* out) {
    simd_detail::ops(target).uniforms(key, rep, first, households, slot_purpose, blocks, out);
}
void household_normals(const std::string& target, const rng::Key& key, std::uint32_t rep, std::uint32_t first,
                       std::size_t households, std::uint32_t slot_purpose, std::uint32_t blocks, double* out) {
    simd_detail::ops(target).normals(key, rep, first, households, slot_purpose, blocks, out);
}
void math_lanes(const std::string& target, MathFn f, const double* in, double* out, std::size_t n) {
    simd_detail::ops(target).math(static_cast<int>(f), in, out, n);
}
std::size_t lanes_of(const std::string& target) { return simd_detail::ops(target).lanes(); }

}  // namespace simd
}  // namespace artel::model
#endif  // HWY_ONCE
