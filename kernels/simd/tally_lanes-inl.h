// Lane-wise tallies of the vector kernel, once per instruction set: the
// fixed-point reals and counts of kernels/tallies.hpp as integer lanes, added
// without order (integers), checked against the tallies' limit as Tally
// checks them.
#if defined(ARTEL_KERNELS_SIMD_TALLY_LANES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ARTEL_KERNELS_SIMD_TALLY_LANES_INL_H_
#undef ARTEL_KERNELS_SIMD_TALLY_LANES_INL_H_
#else
#define ARTEL_KERNELS_SIMD_TALLY_LANES_INL_H_
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include <hwy/highway.h>

#include "kernels/rules.hpp"
#include "kernels/simd/lanes-inl.h"
#include "kernels/tallies.hpp"

HWY_BEFORE_NAMESPACE();
namespace artel {
namespace model {
namespace simd_detail {
namespace HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;
using namespace artel::vec::HWY_NAMESPACE;
namespace dv = artel::vec::HWY_NAMESPACE;
namespace f32 {

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
    HWY_INLINE void add_const(Real r, MF m, const rules::FixedConst& x) {
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

}  // namespace HWY_NAMESPACE
}  // namespace simd_detail
}  // namespace model
}  // namespace artel
HWY_AFTER_NAMESPACE();

#endif  // ARTEL_KERNELS_SIMD_TALLY_LANES_INL_H_
