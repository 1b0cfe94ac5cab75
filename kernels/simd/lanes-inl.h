// The vector kernel's vocabulary, once per instruction set (included by
// kernels/simd/step_simd.cpp through foreach_target.h): one household per
// 32-bit lane, the double-lane "halves" of a float vector, Bernoulli and
// binomial draws as exact integer tests, ordered village sums, and the
// household state's pointers and padded tail.
#if defined(ARTEL_KERNELS_SIMD_LANES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ARTEL_KERNELS_SIMD_LANES_INL_H_
#undef ARTEL_KERNELS_SIMD_LANES_INL_H_
#else
#define ARTEL_KERNELS_SIMD_LANES_INL_H_
#endif

#include <algorithm>
#include <cstdint>
#include <cstring>

#include <hwy/highway.h>

#include "engine/random/binomial_search.hpp"
#include "engine/random/binomial_table.hpp"
#include "kernels/block.hpp"
#include "kernels/rules.hpp"
#include "kernels/simd/detmath-inl.h"
#include "kernels/simd/philox-inl.h"
#include "kernels/simd/scratch.hpp"
#include "kernels/tallies.hpp"

HWY_BEFORE_NAMESPACE();
namespace artel {
namespace model {
namespace simd_detail {
namespace HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;
using namespace artel::vec::HWY_NAMESPACE;

constexpr std::size_t kMaxN = HWY_LANES(double);
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
// 32-bit lanes, in which the vector policy is written; what stays in double
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
using Thr = rules::Threshold;
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

}  // namespace f32

}  // namespace HWY_NAMESPACE
}  // namespace simd_detail
}  // namespace model
}  // namespace artel
HWY_AFTER_NAMESPACE();

#endif  // ARTEL_KERNELS_SIMD_LANES_INL_H_
