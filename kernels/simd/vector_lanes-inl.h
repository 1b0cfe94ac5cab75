// The lane policy of a vector of households (kernels/rules.hpp), once per
// instruction set: the rules run on Highway vectors of float and int32
// lanes; their draws are the vector's Philox words, computed when some lane
// first needs a block; their binomials, learning search and activation
// draw take the vector kernel's fast paths (exact integer tests in
// registers, decided in float where that is certain), and their tallies go
// to the lane-wise accumulator. Every lane gets the bits of the one-lane
// policy (kernels/one_lane.hpp); tests/test_simd.cpp checks it.

#if defined(ARTEL_KERNELS_SIMD_VECTOR_LANES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ARTEL_KERNELS_SIMD_VECTOR_LANES_INL_H_
#undef ARTEL_KERNELS_SIMD_VECTOR_LANES_INL_H_
#else
#define ARTEL_KERNELS_SIMD_VECTOR_LANES_INL_H_
#endif

#include <cstdint>

#include <hwy/highway.h>

#include "kernels/purposes.hpp"
#include "kernels/rules.hpp"
#include "kernels/simd/detmath-inl.h"
#include "kernels/simd/lanes-inl.h"
#include "kernels/simd/philox-inl.h"
#include "kernels/simd/scratch.hpp"
#include "kernels/simd/tally_lanes-inl.h"

HWY_BEFORE_NAMESPACE();
namespace artel {
namespace model {
namespace simd_detail {
namespace HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;
namespace dv = artel::vec::HWY_NAMESPACE;

// The year's constants: the rules' (rules::Year) and the vector kernel's.
struct YearConst {
    rules::Year y;
    dv::StreamConst hy, demog;
    // step 5's binomial thresholds (rng::BinomialTable::thresholds()) and
    // their tests k = 0, 1 in registers
    const std::int64_t *b_age, *b_school, *b_adult_death, *b_child_death;
    const Tests01 *q_age, *q_school, *q_adult_death, *q_child_death;
    float sigma_Hf, c2Hf;  // fmath::weather_coefficients
    bool store_hy0;        // phase E keeps HouseholdYear words 2, 3 for pass B
};

// A village's constants: the rules' (rules::Village) and the vector
// kernel's.
struct VillageConst {
    rules::Village v;
    bool closed = false;               // store closed in step 1 (coop_start differs from coop)
    const LearnConst* learn = nullptr;  // step 9's binomials (null when literacy is off)
};

namespace f32 {

// Words of one Philox block for a float vector of households: PhiloxMulti
// over its kHalves double-lane id vectors, packed to 32-bit lanes.
template <int K>
HWY_INLINE void PhiloxF(const dv::VU* ids, const dv::StreamConst& sc, const std::uint32_t* blocks, Words* out) {
    constexpr int V = kHalves;
    dv::Words4 w[K * V];
    dv::PhiloxMulti<V, K>(ids, sc, blocks, w);
#pragma GCC unroll 4
    for (int k = 0; k < K; ++k) PackBlock<1>(w + k * V, out + k);
}

class VectorLanes {
public:
    using F = VF;
    using I = VI;
    using M = MF;
    using W = VU;

    // ---- values ----
    static HWY_INLINE F f(float x) { return SetF(x); }
    static HWY_INLINE I i(std::int32_t x) { return SetI(x); }
    static HWY_INLINE F to_f(I x) { return I2F(x); }
    static HWY_INLINE F sel(M m, F a, F b) { return hn::IfThenElse(m, a, b); }
    static HWY_INLINE I sel(M m, I a, I b) { return hn::IfThenElse(ToI(m), a, b); }
    static HWY_INLINE F zero_unless(M m, F x) { return hn::IfThenElseZero(m, x); }
    static HWY_INLINE I zero_unless(M m, I x) { return hn::IfThenElseZero(ToI(m), x); }
    static HWY_INLINE F zero_where(M m, F x) { return hn::IfThenZeroElse(m, x); }
    static HWY_INLINE I zero_where(M m, I x) { return hn::IfThenZeroElse(ToI(m), x); }
    static HWY_INLINE M eq(I a, std::int32_t b) { return ToF(hn::Eq(a, SetI(b))); }
    static HWY_INLINE M gt(I a, std::int32_t b) { return ToF(hn::Gt(a, SetI(b))); }
    static HWY_INLINE M lt(I a, std::int32_t b) { return ToF(hn::Lt(a, SetI(b))); }
    static HWY_INLINE M both(M a, M b) { return hn::And(a, b); }
    static HWY_INLINE M either(M a, M b) { return hn::Or(a, b); }
    static HWY_INLINE M except(M m, M out) { return hn::AndNot(out, m); }
    static HWY_INLINE M none() { return hn::FirstN(DF(), 0); }
    static HWY_INLINE bool any(M m) { return !hn::AllFalse(DF(), m); }

    // ---- draws ----
    static HWY_INLINE M below(W w, rules::Threshold t) { return Below(w, t); }
    static HWY_INLINE M below(W w, M first, rules::Threshold a, rules::Threshold b) { return Below(w, first, a, b); }
    static HWY_INLINE M uniform_below(W w, F p) { return UniformBelow(w, p); }

    // The vector of households whose first lane is place j of the village
    // (ids: its households' ids as kHalves double-lane vectors).
    HWY_INLINE VectorLanes(const YearConst& yc, const VillageConst& vc, VillageScratch& vs, Acc& acc,
                           std::size_t j, const dv::VU* ids)
        : yc_(yc), vc_(vc), vs_(vs), acc_(acc), j_(j), ids_(ids) {}

    // The HouseholdYear blocks 0 (unless phase E kept its words) and 1, and
    // Demography block 0, computed together where the year will read them
    // (independent Philox chains run side by side).
    HWY_INLINE void prefetch(M alive) {
        if (!any(alive)) return;
        const auto& mech = yc_.y.p->mechanisms;
        std::uint32_t bl[2];
        int nb = 0;
        if (mech.demography && !yc_.store_hy0) bl[nb++] = 0;
        if (mech.adoption || mech.literacy || yc_.y.bonus_on) bl[nb++] = 1;
        if (nb == 2) PhiloxF<2>(ids_, yc_.hy, bl, hy_);
        if (nb == 1) PhiloxF<1>(ids_, yc_.hy, bl, hy_);
        for (int i = 0; i < nb; ++i) slot_[bl[i]] = i;
        computed_ = nb;
        if (mech.demography) {
            const std::uint32_t b0 = 0;
            PhiloxF<1>(ids_, yc_.demog, &b0, &dem0_);
            have_dem0_ = true;
        }
    }

    // (The lanes that read a word matter to the reference policy, which
    // counts them: draw_count.hpp.)
    HWY_INLINE W hy(M /*readers*/, std::uint32_t k) {
        if (k / 4 == 0 && yc_.store_hy0) {
            if (k == kBirth) return hn::LoadU(DU(), vs_.hy2.data() + j_);
            if (k == kChildDeaths) return hn::LoadU(DU(), vs_.hy3.data() + j_);
        }
        const std::uint32_t b = k / 4;
        if (slot_[b] < 0) {
            PhiloxF<1>(ids_, yc_.hy, &b, hy_ + computed_);
            slot_[b] = computed_++;
        }
        return hy_[slot_[b]].w[k % 4];
    }
    // (Demography block 0 is prefetched where step 5 will read it; block 1,
    // for a famine death or an eldest child, is drawn when some lane first
    // needs it.)
    HWY_INLINE W dem(M /*readers*/, std::uint32_t k) {
        if (k / 4 == 0) {
            if (HWY_UNLIKELY(!have_dem0_)) {
                const std::uint32_t b0 = 0;
                PhiloxF<1>(ids_, yc_.demog, &b0, &dem0_);
                have_dem0_ = true;
            }
            return dem0_.w[k % 4];
        }
        if (!have_dem1_) {
            const std::uint32_t b1 = 1;
            PhiloxF<1>(ids_, yc_.demog, &b1, &dem1_);
            have_dem1_ = true;
        }
        return dem1_.w[k % 4];
    }

    // Every count the next binomials see is at most `bound` (then, on AVX2
    // and AVX-512, each lane's row of a table is in one vector).
    HWY_INLINE void counts_at_most(I bound) { fits_ = FitsOneChunk<1>(&bound); }
    HWY_INLINE I binomial(rules::Binomial b, I n, W w) const {
        switch (b) {
            case rules::Binomial::age: return Binomial01(*yc_.q_age, yc_.b_age, n, w, fits_);
            case rules::Binomial::school: return Binomial01(*yc_.q_school, yc_.b_school, n, w, fits_);
            case rules::Binomial::adult_death:
                return Binomial01(*yc_.q_adult_death, yc_.b_adult_death, n, w, fits_);
            case rules::Binomial::child_death:
                return Binomial01(*yc_.q_child_death, yc_.b_child_death, n, w, fits_);
        }
        return hn::Zero(DI());
    }

    // Binomial(n, learn) by inversion of w (rng::BinomialSearch::sample),
    // learn the village's rate for active members in the lanes of `active`:
    // the search's tests 1 and 2 (0, 1 or 2 learners) in registers, the
    // exact search in double where some lane goes on (two learners and more
    // illiterates: rare) or the thresholds cannot be held.
    HWY_INLINE I learned(I n, W w, M active) const {
        const LearnConst& lc = *vc_.learn;
        const DI di;
        bool exact = !lc.t_other.ok || !lc.t_active.ok;
        VI k = hn::Zero(di);
        if (!exact) {
            const VI ws = SignFlip(w);
            const MI a = ToI(active);
            const MI p0 = hn::Gt(ws, Sel(a, Lookup17(lc.t_active.e0, n, fits_), Lookup17(lc.t_other.e0, n, fits_)));
            const MI p1 = hn::Gt(ws, Sel(a, Lookup17(lc.t_active.e1, n, fits_), Lookup17(lc.t_other.e1, n, fits_)));
            k = hn::Neg(hn::Add(hn::VecFromMask(di, p0), hn::VecFromMask(di, p1)));
            exact = !hn::AllFalse(di, hn::And(p1, hn::Gt(n, SetI(2))));
        }
        if (HWY_UNLIKELY(exact)) {
            dv::VI nh[kHalves], kh[kHalves];
            dv::VU wh[kHalves];
            dv::VF ah[kHalves];
            Halves(n, nh);
            Halves(w, wh);
            Halves(Sel(active, SetF(1.0f), hn::Zero(DF())), ah);
            for (int q = 0; q < kHalves; ++q) kh[q] = LearnSearch(lc, nh[q], wh[q], hn::Gt(ah[q], hn::Zero(dv::DF())));
            k = JoinI(kh);
        }
        return k;
    }

    // uniform01(w) < 1 − exp(−rate) in the lanes of m, the rate in float and
    // the probability in double (village::hazard).
    HWY_INLINE M activates(M m, W w, F rate) const {
        bool exact = true;
        M act = none();
#if HWY_TARGET != HWY_SCALAR
        // The draw is u < h with u = (w + 1/2)·2^-32 and h the exact double
        // hazard, which cost 4% of the kernel in double halves. It is decided
        // in float instead wherever that is certain: hf =
        // fmath::one_minus_exp_neg(rate) is within 2^-23 of h
        // (tests/test_detmath.cpp checks 2^-22) and uf = ⌊w/2^8⌋·2^-24 ≤ u <
        // uf + 2^-24, so with the margin M = 2^-16, uf < hf − M means u < h
        // and uf > hf + M means u > h (each float operation rounds by at most
        // 2^-24 here). A vector with a lane in between (probability about
        // 2^-15 per lane) takes the exact way.
        constexpr float kMargin = 0x1p-16f;
        VF hf;
        dv::OneMinusExpNegFK<1>(&rate, &hf);
        const VF uf = hn::Mul(I2F(hn::BitCast(DI(), hn::ShiftRight<8>(w))), SetF(0x1p-24f));
        const MF yes = hn::Lt(uf, hn::Sub(hf, SetF(kMargin)));
        const MF no = hn::Gt(uf, hn::Add(hf, SetF(kMargin)));
        exact = any(hn::AndNot(hn::Or(yes, no), m));
        if (!exact) act = hn::And(m, yes);
#endif
        if (exact) {
            dv::VF a[kHalves], hz[kHalves];
            dv::VU wa[kHalves];
            Halves(rate, a);
            Halves(w, wa);
            dv::HazardK<kHalves>(a, hz);
            dv::MF mh[kHalves];
            for (int q = 0; q < kHalves; ++q) mh[q] = hn::Lt(dv::Uniform(wa[q]), hz[q]);
            act = hn::And(m, JoinM(mh));
        }
        return act;
    }

    // ---- tallies and village sums ----
    HWY_INLINE void add(Real r, M m, F x) { acc_.add(r, m, x); }
    HWY_INLINE void add(Count c, M m) { acc_.add(c, m); }
    HWY_INLINE void add(Count c, I x) { acc_.add_neg(c, hn::Neg(x)); }
    HWY_INLINE void add_const(Real r, M m, const rules::FixedConst& x) { acc_.add_const(r, m, x); }
    static HWY_INLINE void sum_in_order(double& sum, F x) { ordered_sum(x, sum); }
    static HWY_INLINE void sum_in_order(double& sum, M m, F x) { ordered_sum(m, x, sum); }

private:
    const YearConst& yc_;
    const VillageConst& vc_;
    VillageScratch& vs_;
    Acc& acc_;
    std::size_t j_;
    const dv::VU* ids_;
    Words hy_[2];
    int slot_[2] = {-1, -1};
    int computed_ = 0;
    Words dem0_, dem1_;
    bool have_dem0_ = false, have_dem1_ = false;
    bool fits_ = false;
};

}  // namespace f32

// The rules of kernels/rules.inc for this instruction set (its target
// attributes apply to them here, as Highway requires of code it inlines).
namespace vector_rules {
using namespace ::artel::model::rules;
#include "kernels/rules.inc"
}  // namespace vector_rules

}  // namespace HWY_NAMESPACE
}  // namespace simd_detail
}  // namespace model
}  // namespace artel
HWY_AFTER_NAMESPACE();

#endif  // ARTEL_KERNELS_SIMD_VECTOR_LANES_INL_H_
