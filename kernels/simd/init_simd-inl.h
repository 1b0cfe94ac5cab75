// init_block (kernels/household_model.cpp) on vectors of households, once
// per instruction set: the same initial block, bit for bit.
#if defined(ARTEL_KERNELS_SIMD_INIT_SIMD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ARTEL_KERNELS_SIMD_INIT_SIMD_INL_H_
#undef ARTEL_KERNELS_SIMD_INIT_SIMD_INL_H_
#else
#define ARTEL_KERNELS_SIMD_INIT_SIMD_INL_H_
#endif

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include <hwy/highway.h>

#include "engine/math/detmath.hpp"
#include "engine/random/samplers.hpp"
#include "engine/random/streams.hpp"
#include "engine/random/threshold.hpp"
#include "kernels/block.hpp"
#include "kernels/household_model.hpp"
#include "kernels/purposes.hpp"
#include "kernels/simd/detmath-inl.h"
#include "kernels/simd/lanes-inl.h"
#include "kernels/simd/philox-inl.h"

HWY_BEFORE_NAMESPACE();
namespace artel {
namespace model {
namespace simd_detail {
namespace HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;
using namespace artel::vec::HWY_NAMESPACE;

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
    village_aggregates(s);
}

}  // namespace HWY_NAMESPACE
}  // namespace simd_detail
}  // namespace model
}  // namespace artel
HWY_AFTER_NAMESPACE();

#endif  // ARTEL_KERNELS_SIMD_INIT_SIMD_INL_H_
