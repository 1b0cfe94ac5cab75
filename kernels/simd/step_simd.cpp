// The vector kernel: the household rules of kernels/rules.hpp on vectors of
// households (kernels/simd/vector_lanes-inl.h), one household per 32-bit
// lane (the household state is float, docs/model.md), compiled once per
// instruction set by Highway's foreach_target and chosen at run time. This
// file is its driver: it holds no model. What the model keeps in double
// (village quantities, probabilities met by words, fixed-point tallies) is
// computed on the same households as two double-lane vectors ("halves").
//
// How it stays bit-identical to the reference kernel:
//  - The rules are the reference's rules; every float and double is
//    computed by the same IEEE operations in the same order (selects for
//    branches; no FMA: -ffp-contract=off), the maths by the one text of
//    engine/math (detmath-inl.h).
//  - Random words come from the same Philox counters (philox-inl.h); a
//    Bernoulli draw with a probability fixed across lanes is the exact
//    integer test w < T(p) (engine/random/threshold.hpp), one with a lane
//    probability compares uniform01(w) < p in double as the reference does.
//  - Village sums that feed the model (the levy, ΣD, the reserve drawn) are
//    added lane by lane in household order; lanes that the reference skips
//    contribute +0.0, which leaves such a sum unchanged.
//  - Tallies are integers (to_fixed per addend), so their order does not
//    matter.
//  - A village's households are processed in two passes, as by the
//    reference: steps 3 and 4(a) (which end in the village sums ΣD and the
//    levy), then steps 4(b)–10 and the end-of-year stocks. Villages are
//    independent within a year, so each village is finished before the next.
//  - A vector that would run past the village's households works on a padded
//    copy whose extra lanes are dissolved households (size 0), which every
//    rule leaves alone.

#include "kernels/simd/step_simd.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "engine/math/detmath.hpp"
#include "engine/random/samplers.hpp"
#include "engine/random/streams.hpp"
#include "engine/random/threshold.hpp"
#include "kernels/household_model.hpp"
#include "kernels/one_lane.hpp"
#include "kernels/purposes.hpp"
#include "kernels/rules.hpp"
#include "kernels/simd/scratch.hpp"
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

}  // namespace artel::model::simd_detail
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/step_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/simd/detmath-inl.h"
#include "kernels/simd/hooks-inl.h"
#include "kernels/simd/init_simd-inl.h"
#include "kernels/simd/lanes-inl.h"
#include "kernels/simd/philox-inl.h"
#include "kernels/simd/tally_lanes-inl.h"
#include "kernels/simd/vector_lanes-inl.h"

HWY_BEFORE_NAMESPACE();
namespace artel {
namespace model {
namespace simd_detail {
namespace HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;
using namespace artel::vec::HWY_NAMESPACE;

// Double vectors processed together in phase E (independent dependency
// chains; 4 rather than 2 on AVX2 too: 13.2 against 11.9 M household-years/s,
// BM_StepYear_2000hh_sufficiency/avx2, medians of 6 alternated runs).
constexpr int kE = 4;

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

// One vector of households at village place j. Lanes from nvalid on belong
// to the next village: they are read (in bounds), treated as dissolved, and
// written back unchanged.
HWY_NOINLINE void PassA(const Ptrs& base, std::size_t i0, std::size_t j, std::size_t nvalid, const YearConst& yc,
                        const VillageConst& vc, VillageScratch& vs, Acc& acc, std::int64_t& persons_start,
                        rules::VillageSums& sums) {
    const DF df;
    const DI di;
    const auto& mech = yc.y.p->mechanisms;
    const Ptrs at = base.at(i0);
    rules::Household<VectorLanes> h{};
    h.size = LoadI32(at.size);
    if (nvalid < hn::Lanes(df)) h.size = hn::IfThenElseZero(ToI(hn::FirstN(df, nvalid)), h.size);
    h.adults = LoadI32(at.adults);
    h.literate = LoadI32(at.literate);
    h.coop = LoadI32(at.coop);
    h.land = hn::LoadU(df, at.land);
    h.grain = hn::LoadU(df, at.grain);
    h.cash = hn::LoadU(df, at.cash);
    h.alive = ToF(hn::Gt(h.size, hn::Zero(di)));
    persons_start += hn::GetLane(hn::SumOfLanes(di, h.size));  // dead lanes have size 0
    const VF E = mech.weather ? hn::LoadU(df, vs.E.data() + j) : SetF(1.0f);
    VectorLanes l(yc, vc, vs, acc, j, nullptr);
    rules::Flows<VectorLanes> flows{};
    vector_rules::year_first_pass(l, h, yc.y, vc.v, E, sums, flows);
    hn::StoreU(h.shortfall, df, vs.shortfall.data() + j);
    hn::StoreU(h.grain, df, at.grain);
    hn::StoreU(h.cash, df, at.cash);
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

// The end-of-year stocks of a vector (tally_stocks), the counts behind next
// year's M, A, L, and its households' Gini bins and fixed-point wealth, added
// to the histogram at the village's end (dissolved lanes go to a spare bin).
template <class L>
HWY_INLINE void Stocks(const rules::Household<L>& h, VF P, std::size_t j, VillageScratch& vs, Acc& acc,
                       VillageCounts& vcnt) {
    const DI di;
    const std::size_t NH = hn::Lanes(dv::DF());
    const MF alive = ToF(hn::Gt(h.size, hn::Zero(di)));
    const MI ai = ToI(alive);
    const VI one = hn::IfThenElseZero(ai, SetI(1));
    vcnt.add(VillageCounts::kLiving, one);
    vcnt.add(VillageCounts::kPersons, h.size);  // 0 in dissolved lanes
    vcnt.add(VillageCounts::kMembers, hn::IfThenElseZero(hn::Gt(h.coop, hn::Zero(di)), one));
    vcnt.add(VillageCounts::kPassive, hn::IfThenElseZero(hn::Eq(h.coop, SetI(1)), one));
    vcnt.add(VillageCounts::kActive, hn::IfThenElseZero(hn::Eq(h.coop, SetI(2)), one));
    vcnt.add(VillageCounts::kAdults, hn::IfThenElseZero(ai, h.adults));
    vcnt.add(VillageCounts::kLiterate, hn::IfThenElseZero(ai, h.literate));
    acc.add(Count::hungry, hn::And(alive, ToF(hn::Gt(h.hunger, hn::Zero(di)))));
    acc.add(Real::grain, alive, h.grain);
    acc.add(Real::cash, alive, h.cash);
    acc.add(Real::debt, alive, h.debt);
    const VF wealth = vector_rules::wealth<L>(h.cash, h.grain, h.debt, P);
    const VI gb = GiniBinF(wealth);
    hn::StoreU(Sel(ai, gb, SetI(kGiniBins)), di, vs.gbin.data() + j);
    acc.touch(ai, gb);
    dv::VI fx[kHalves];
    vs.gfx_large |= FixedHalves(hn::IfThenElseZero(alive, wealth), fx, vs.gfx_limit);
    for (int q = 0; q < kHalves; ++q)
        hn::StoreU(fx[q], dv::DI(), vs.gfx.data() + j + static_cast<std::size_t>(q) * NH);
}

// One vector of households at village place j (ids from id0), as PassA.
HWY_NOINLINE void PassB(const Ptrs& base, std::size_t i0, std::size_t j, std::uint32_t id0, std::size_t nvalid,
                        const YearConst& yc, const VillageConst& vc, VillageScratch& vs, Acc& acc,
                        VillageCounts& vcnt, rules::VillageSums& sums) {
    const DF df;
    const DI di;
    const std::size_t NH = hn::Lanes(dv::DF());
    const Ptrs at = base.at(i0);
    const bool partial = nvalid < hn::Lanes(df);
    const MF valid = hn::FirstN(df, nvalid);
    rules::Household<VectorLanes> h{};
    h.size = LoadI32(at.size);
    if (partial) h.size = hn::IfThenElseZero(ToI(valid), h.size);
    h.adults = LoadI32(at.adults);
    h.literate = LoadI32(at.literate);
    h.coop = LoadI32(at.coop);
    h.hunger = LoadI32(at.hunger);
    h.land = hn::LoadU(df, at.land);
    h.grain = hn::LoadU(df, at.grain);
    h.cash = hn::LoadU(df, at.cash);
    h.debt = hn::LoadU(df, at.debt);
    h.skill = hn::LoadU(df, at.skill);
    h.coop_start = vc.closed ? LoadI32(vs.coop_start.data() + j) : h.coop;
    h.alive = ToF(hn::Gt(h.size, hn::Zero(di)));
    h.need = vector_rules::need(h, yc.y.hc);
    h.shortfall = hn::LoadU(df, vs.shortfall.data() + j);
    dv::VU ids[kHalves];
    for (int q = 0; q < kHalves; ++q) ids[q] = Ids(static_cast<std::uint64_t>(id0) + static_cast<std::size_t>(q) * NH);

    VectorLanes l(yc, vc, vs, acc, j, ids);
    l.prefetch(h.alive);
    rules::Flows<VectorLanes> flows{};
    vector_rules::year_second_pass(l, h, yc.y, vc.v, sums, flows);
    Stocks(h, SetF(vc.v.Pf), j, vs, acc, vcnt);

    if (partial) {  // the next village's lanes, as they were
        h.size = Sel(valid, h.size, LoadI32(at.size));
        h.adults = Sel(valid, h.adults, LoadI32(at.adults));
        h.literate = Sel(valid, h.literate, LoadI32(at.literate));
        h.coop = Sel(valid, h.coop, LoadI32(at.coop));
        h.hunger = Sel(valid, h.hunger, LoadI32(at.hunger));
        h.grain = Sel(valid, h.grain, hn::LoadU(df, at.grain));
        h.cash = Sel(valid, h.cash, hn::LoadU(df, at.cash));
        h.debt = Sel(valid, h.debt, hn::LoadU(df, at.debt));
        h.skill = Sel(valid, h.skill, hn::LoadU(df, at.skill));
    }
    StoreI32(h.size, at.size);
    StoreI32(h.adults, at.adults);
    StoreI32(h.literate, at.literate);
    StoreI32(h.coop, at.coop);
    StoreI32(h.hunger, at.hunger);
    hn::StoreU(h.grain, df, at.grain);
    hn::StoreU(h.cash, df, at.cash);
    hn::StoreU(h.debt, df, at.debt);
    hn::StoreU(h.skill, df, at.skill);
}

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

// The year of one block on vectors of households: the village-level draws
// and constants for every village first, then village by village phase E,
// pass A (steps 3, 4(a)), the village's sums, pass B (4(b)–10 and the
// stocks), and the village's year end.
class VectorYear {
public:
    VectorYear(const Params& p, const Weather& w, std::int64_t t, BlockState& s, YearScratch& scratch,
               RegionTally* regions)
        : p_(p), w_(w), t_(t), s_(s), scratch_(scratch), regions_(regions), vs_(village_scratch()) {}

    void run(Tally& tally, GiniHistogram& gini) {
        set_year();
        set_villages();
        for (std::int64_t v = 0; v < s_.villages; ++v) village(static_cast<std::size_t>(v));
        acc_.count[static_cast<int>(Count::persons_start)] += persons_start_;
        acc_.flush(tally);
        flush_gini(gini);
    }

private:
    using Thr = rules::Threshold;
    using RegionConst = VillageScratch::RegionConst;

    StreamConst stream(Purpose pu) const {
        const auto key = rng::make_key(p_.seed);
        return PrepareStream(s_.replication, (rng::year_slot(t_) << 8) | static_cast<std::uint32_t>(pu), key[0],
                             key[1]);
    }

    // The year's constants, thresholds and binomial tables.
    void set_year() {
        const auto& mech = p_.mechanisms;
        yc_.y = rules::Year::of(p_);
        yc_.hy = stream(Purpose::HouseholdYear);
        yc_.demog = stream(Purpose::Demography);
        auto& bt = scratch_.demography;
        bt.set(p_);
        yc_.b_age = bt.age.thresholds();
        yc_.b_school = bt.school.thresholds();
        yc_.b_adult_death = bt.adult_death.thresholds();
        yc_.b_child_death = bt.child_death.thresholds();
        fmath::weather_coefficients(p_.sigma_H, yc_.sigma_Hf, yc_.c2Hf);
        yc_.store_hy0 = mech.weather && mech.demography;

        const auto H = static_cast<std::size_t>(s_.households);
        const std::size_t N = hn::Lanes(f32::DF());
        const auto n = s_.n_households();
        scratch_.resize(n);
        Hpad_ = (H + N - 1) / N * N;
        vs_.reserve(Hpad_ + N);  // phase E works on an even number of vectors
        vs_.b_age.set_table(yc_.b_age);
        vs_.b_school.set_table(yc_.b_school);
        vs_.b_adult_death.set_table(yc_.b_adult_death);
        vs_.b_child_death.set_table(yc_.b_child_death);
        yc_.q_age = &vs_.b_age, yc_.q_school = &vs_.b_school;
        yc_.q_adult_death = &vs_.b_adult_death, yc_.q_child_death = &vs_.b_child_death;

        acc_.clear();
        vs_.gfx_limit = kFixedMax / static_cast<std::int64_t>(std::max<std::size_t>(n, 1));
        vs_.gfx_large = false;
        spill_each_village_ =
            (n + N - 1) / N > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max() / 16);
        hbase_ = f32::ptrs_at(s_, 0);
    }

    // Village draws (N villages per vector), step 1 of every village (its
    // households' demotion is done when the village comes), the thresholds
    // that depend on the store after step 1, and the region constants.
    void set_villages() {
        const auto& mech = p_.mechanisms;
        auto& vil = s_.vil;
        const auto nvil = static_cast<std::size_t>(s_.villages);
        vs_.reserve_villages(nvil);
        VillageDraws(stream(Purpose::Organiser), stream(Purpose::WeatherVillage), s_.village_id(0), nvil,
                     mech.adoption, mech.weather, p_.sigma_V, vs_);
        for (std::size_t vi = 0; vi < nvil; ++vi) {
            vs_.vclosed[vi] = 0;
            if (!mech.adoption) continue;
            const auto word = static_cast<std::uint32_t>(vs_.vword[vi]);
            if (!vil.store[vi]) {
                if (village::store_opens(word, p_)) vil.store[vi] = 1;
            } else if (village::store_closes(word, p_, vil.A[vi])) {
                vil.store[vi] = 0;
                vs_.vclosed[vi] = 1;
            }
        }
        if (mech.adoption || mech.literacy) VillageThresholds(p_, p_.rate_private - p_.rate_coop, s_, vs_);
        const auto G = static_cast<std::size_t>(p_.regions);
        vs_.region.resize(G);
        for (std::size_t g = 0; g < G; ++g) {
            auto& rc = vs_.region[g];
            const auto wi = w_.at(t_, static_cast<std::uint32_t>(g));
            rc.R = w_.R[wi];
            rc.P = w_.P[wi];
            if (mech.market) {
                const village::Market m = village::market(p_, rc.P);
                rc.p_coop = m.p_coop;
                rc.state_share = m.state_share;
                rc.one_minus_share = 1.0 - m.state_share;
                rc.p_other = m.p_other;
            }
        }
    }

    // Runs pass `pass` over the village's households from b: whole vectors
    // in place, and a last partial one in place if the block goes on past it
    // (its foreign lanes are left as they were) or else on a padded copy.
    template <class Pass>
    void vectors(std::size_t b, std::size_t H, Pass pass) {
        const std::size_t N = hn::Lanes(f32::DF());
        std::size_t j = 0;
        for (; j + N <= H; j += N) pass(hbase_, b + j, j, N);
        if (j < H) {
            if (b + j + N <= s_.n_households()) {
                pass(hbase_, b + j, j, H - j);
            } else {
                pass(tail_.load(s_, b + j, H - j), 0, j, N);
                tail_.store(s_, b + j, H - j);
            }
        }
    }

    void village(std::size_t vi) {
        const auto& mech = p_.mechanisms;
        auto& hh = s_.hh;
        auto& vil = s_.vil;
        const std::size_t NH = hn::Lanes(DF());
        const auto H = static_cast<std::size_t>(s_.households);
        const std::uint32_t g = s_.village_id(static_cast<std::int64_t>(vi)) % static_cast<std::uint32_t>(p_.regions);
        const std::size_t b = vi * H, e = b + H;
        const std::uint32_t id_b = s_.household_id(b);
        VillageConst vc{};
        std::uint64_t region_c0[RegionTally::kCounts.size()] = {}, region_r0[RegionTally::kReals.size()] = {};
        if (regions_) acc_.region_sums(region_c0, region_r0);

        // 1. Organisers: a store that closed demotes its active members.
        if (vs_.vclosed[vi]) {
            vc.closed = true;
            for (std::size_t i = b; i < e; ++i) {
                vs_.coop_start[i - b] = hh.coop[i];
                hh.coop[i] = reference::store_closed<OneLane>(hh.size[i], hh.coop[i]);
            }
            for (std::size_t l = H; l < Hpad_; ++l) vs_.coop_start[l] = 0;
        }

        // 2. Weather of the village; phase E, then pass A: 3 and 4(a).
        const RegionConst& rc = vs_.region[g];
        vc.v.Rf = static_cast<float>(rc.R), vc.v.Pf = static_cast<float>(rc.P);
        vc.v.Vf = static_cast<float>(vs_.vV[vi]);
        if (mech.weather) {
            // The village's vectors in groups of kE (= 4), the last of 2 if
            // the count is not a multiple of 4 (rounded up to an even count:
            // a float vector holds two double vectors' households; the
            // scratch is padded for it).
            std::size_t j = 0;
            const std::size_t C = Hpad_ / NH;
            for (; j + kE <= C; j += kE) PhaseE<kE>(j * NH, id_b + static_cast<std::uint32_t>(j * NH), yc_, vs_);
            for (; j < C; j += 2) PhaseE<2>(j * NH, id_b + static_cast<std::uint32_t>(j * NH), yc_, vs_);
        }
        rules::VillageSums sums;
        vectors(b, H, [&](const f32::Ptrs& base, std::size_t i0, std::size_t j, std::size_t nvalid) {
            f32::PassA(base, i0, j, nvalid, yc_, vc, vs_, acc_, persons_start_, sums);
        });
        vil.reserve[vi] += sums.levy;

        // The village's constants of steps 4(b), 6, 9, 10.
        vc.v.c = village::reserve_share(p_, vil.reserve[vi], sums.shortfall);
        vc.v.cf = static_cast<float>(vc.v.c);
        vc.v.store = vil.store[vi] != 0;
        vc.v.p_coop = static_cast<float>(rc.p_coop);
        vc.v.state_share = static_cast<float>(rc.state_share);
        vc.v.one_minus_share = static_cast<float>(rc.one_minus_share);
        vc.v.p_other = static_cast<float>(rc.p_other);
        if (mech.literacy) {
            vs_.learn.set(vs_.vlearn_other[vi], vs_.vlearn_active[vi]);
            LearnTests(vs_.learn);
            vc.learn = &vs_.learn;
        }
        vc.v.join = Thr::of(vs_.vjoin[vi]);

        // Pass B: 4(b)–10 and the stocks.
        vcnt_.clear();
        vectors(b, H, [&](const f32::Ptrs& base, std::size_t i0, std::size_t j, std::size_t nvalid) {
            f32::PassB(base, i0, j, id_b + static_cast<std::uint32_t>(j), nvalid, yc_, vc, vs_, acc_, vcnt_, sums);
        });
        add_gini(H);

        // 11. Year end.
        vil.reserve[vi] = village::reserve_at_year_end(p_, vil.reserve[vi], sums.drawn);
        using VC = f32::VillageCounts;
        const std::int64_t living = vcnt_.sum(VC::kLiving), members = vcnt_.sum(VC::kMembers),
                           active = vcnt_.sum(VC::kActive), adults = vcnt_.sum(VC::kAdults),
                           literate = vcnt_.sum(VC::kLiterate);
        const village::Shares sh = village::shares(living, members, active, adults, literate);
        vil.M[vi] = sh.M, vil.A[vi] = sh.A, vil.L[vi] = sh.L;
        acc_.count[static_cast<int>(Count::living)] += living;
        acc_.count[static_cast<int>(Count::persons)] += vcnt_.sum(VC::kPersons);
        acc_.count[static_cast<int>(Count::passive)] += vcnt_.sum(VC::kPassive);
        acc_.count[static_cast<int>(Count::active)] += active;
        acc_.count[static_cast<int>(Count::adults)] += adults;
        acc_.count[static_cast<int>(Count::literate)] += literate;
        acc_.count[static_cast<int>(Count::stores_open)] += vil.store[vi];
        acc_.add_one(Real::reserve, vil.reserve[vi]);
        if (regions_) acc_.add_region_share(region_c0, region_r0, regions_[g]);
        if (spill_each_village_) acc_.spill();
    }

    // The village's households into the year's Gini bins. Their sums are
    // checked against kFixedMax (GiniHistogram) in a village where some
    // household's wealth is above kFixedMax / n (2.2e9 roubles in a block of
    // 2000 households) or invalid. Otherwise the n households of the block
    // add at most kFixedMax to a bin, and less than that after a checked
    // village left the bin within kFixedMax: no sum wraps, and add_range in
    // flush_gini checks the limit.
    void add_gini(std::size_t H) {
        if (HWY_LIKELY(!vs_.gfx_large)) {
            for (std::size_t i = 0; i < H; ++i) {
                const auto bin = static_cast<std::size_t>(vs_.gbin[i]);
                vs_.gn[bin] += 1;
                vs_.gsum[bin] += vs_.gfx[i];
            }
            return;
        }
        for (std::size_t i = 0; i < H; ++i) {
            const auto bin = static_cast<std::size_t>(vs_.gbin[i]);
            vs_.gn[bin] += 1;
            // wealth >= 0: a negative value is FixedHalves' kFixedInvalid
            gini_bad_ |= (vs_.gfx[i] < 0) | __builtin_add_overflow(vs_.gsum[bin], vs_.gfx[i], &vs_.gsum[bin]) |
                         (vs_.gsum[bin] > kFixedMax);
        }
        vs_.gfx_large = false;
    }

    // The bins this year's living households touched (dissolved lanes went
    // to the spare bin kGiniBins), without a branch on empty bins, which are
    // many and unpredictable: adding their zeros changes nothing.
    void flush_gini(GiniHistogram& gini) {
        const int lo = static_cast<int>(acc_.bins_lo()), hi = static_cast<int>(acc_.bins_hi());
        if (lo < hi) {
            gini.add_range(lo, hi, vs_.gn.data(), vs_.gsum.data());
            std::fill(vs_.gn.begin() + lo, vs_.gn.begin() + hi, 0);
            std::fill(vs_.gsum.begin() + lo, vs_.gsum.begin() + hi, 0);
        }
        vs_.gn[kGiniBins] = 0, vs_.gsum[kGiniBins] = 0;
        gini.overflow |= gini_bad_;
    }

    const Params& p_;
    const Weather& w_;
    std::int64_t t_;
    BlockState& s_;
    YearScratch& scratch_;
    RegionTally* regions_;
    VillageScratch& vs_;
    YearConst yc_{};
    f32::Acc acc_;
    f32::VillageCounts vcnt_;
    f32::Tail tail_;
    f32::Ptrs hbase_{};
    std::size_t Hpad_ = 0;
    std::int64_t persons_start_ = 0;
    bool gini_bad_ = false;  // a Gini bin's sum did not hold (GiniHistogram::overflow)
    bool spill_each_village_ = false;
};

void StepYear(const Params& p, const Weather& w, std::int64_t t, BlockState& s, YearScratch& scratch, Tally& tally,
              GiniHistogram& gini, RegionTally* regions) {
    VectorYear(p, w, t, s, scratch, regions).run(tally, gini);
}

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
