// The deterministic maths of engine/math/detmath_text.inc and fmath_text.inc
// for K vectors of one Highway target, and the integer/double conversions
// the kernel needs (included once per target by foreach_target.h).
//
// The maths is not written here: the one text that gives the scalar
// functions (dmath::exp, fmath::normal_z0, ...) is included below with K
// vectors as one value (Lanes), every operation applied to the K vectors in
// turn, so each lane performs exactly the IEEE operations of the scalar
// function, in the same order (selects become blends; no FMA: the build
// uses -ffp-contract=off, and Highway's Mul/Add/Sub/Div/Sqrt are the
// correctly rounded IEEE operations), and its result is bit-identical.
// tests/test_simd.cpp checks this on every target.

#if defined(ARTEL_KERNELS_SIMD_DETMATH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ARTEL_KERNELS_SIMD_DETMATH_INL_H_
#undef ARTEL_KERNELS_SIMD_DETMATH_INL_H_
#else
#define ARTEL_KERNELS_SIMD_DETMATH_INL_H_
#endif

#include <cmath>
#include <cstdint>
#include <limits>

#include <hwy/highway.h>

#include "engine/math/detmath.hpp"
#include "engine/math/fmath.hpp"
#include "kernels/tallies.hpp"

HWY_BEFORE_NAMESPACE();
namespace artel {
namespace vec {
namespace HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<double>;
using DI = hn::RebindToSigned<DF>;
using DU = hn::RebindToUnsigned<DF>;
using VF = hn::Vec<DF>;
using VI = hn::Vec<DI>;
using VU = hn::Vec<DU>;
using MF = hn::Mask<DF>;
using MI = hn::Mask<DI>;

HWY_INLINE MF ToF(MI m) { return hn::RebindMask(DF(), m); }
HWY_INLINE MI ToI(MF m) { return hn::RebindMask(DI(), m); }
HWY_INLINE MF ToF(hn::Mask<DU> m) { return hn::RebindMask(DF(), m); }

HWY_INLINE VF SetF(double x) { return hn::Set(DF(), x); }
HWY_INLINE VI SetI(std::int64_t x) { return hn::Set(DI(), x); }
HWY_INLINE VU SetU(std::uint64_t x) { return hn::Set(DU(), x); }

// cond ? a : b
HWY_INLINE VF Sel(MF m, VF a, VF b) { return hn::IfThenElse(m, a, b); }
HWY_INLINE VI Sel(MI m, VI a, VI b) { return hn::IfThenElse(m, a, b); }
HWY_INLINE VI Sel(MF m, VI a, VI b) { return hn::IfThenElse(ToI(m), a, b); }
HWY_INLINE VU Sel(MF m, VU a, VU b) { return hn::IfThenElse(hn::RebindMask(DU(), m), a, b); }

// Exact int64 -> double for |v| < 2^51 (the integers of this model are small):
// the bits of 1.5·2^52 + v, minus 1.5·2^52, both steps exact.
HWY_INLINE VF I2D(VI v) {
    return hn::Sub(hn::BitCast(DF(), hn::Add(v, SetI(0x4338000000000000LL))), SetF(0x1.8p52));
}
// rint(v) as int64 for |v| < 2^51 (detmath::detail::round_to_int), and the
// shifted double it is read from.
HWY_INLINE VI RoundShiftedToInt(VF shifted) {
    return hn::Sub(hn::BitCast(DI(), shifted), SetI(0x4338000000000000LL));
}

// ---- int32 arrays <-> int64 lanes ------------------------------------------
HWY_INLINE VI LoadI32(const std::int32_t* p) {
#if HWY_TARGET == HWY_SCALAR
    return hn::Set(DI(), static_cast<std::int64_t>(p[0]));
#else
    const hn::Rebind<std::int32_t, DI> d32;
    return hn::PromoteTo(DI(), hn::LoadU(d32, p));
#endif
}
HWY_INLINE void StoreI32(VI v, std::int32_t* p) {
#if HWY_TARGET == HWY_SCALAR
    p[0] = static_cast<std::int32_t>(hn::GetLane(v));
#else
    const hn::Rebind<std::uint32_t, DU> du32;
    const hn::Rebind<std::int32_t, DI> di32;
    hn::StoreU(hn::BitCast(di32, hn::TruncateTo(du32, hn::BitCast(DU(), v))), di32, p);
#endif
}

// ---- K vectors as one value of the one text ---------------------------------
//
// The polynomials are long chains of dependent operations, and one vector
// alone would leave the FP units idle: the kernel evaluates K independent
// vectors at once, and Lanes<T, K> makes them one value of the text, each
// operation applied to vector 0, 1, ..., K - 1 in turn. (T is a lane type,
// not a Highway tag, so that argument-dependent lookup stays out of hwy.)

#define ARTEL_K _Pragma("GCC unroll 16") for (int k = 0; k < K; ++k)

template <typename T, int K>
struct LaneMask {
    hn::Mask<hn::ScalableTag<T>> m[K];
};

template <typename T, int K>
struct Lanes {
    using D = hn::ScalableTag<T>;
    hn::Vec<D> v[K];

    Lanes() = default;
    // Implicit, so that a constant operand of the text stands for all lanes.
    HWY_INLINE Lanes(T c) {
        ARTEL_K v[k] = hn::Set(D(), c);
    }

#define ARTEL_LANES_BINARY(op, fn)                                          \
    friend HWY_INLINE Lanes operator op(const Lanes& a, const Lanes& b) {  \
        Lanes r;                                                            \
        ARTEL_K r.v[k] = hn::fn(a.v[k], b.v[k]);                            \
        return r;                                                           \
    }
#define ARTEL_LANES_COMPARE(op, fn)                                                \
    friend HWY_INLINE LaneMask<T, K> operator op(const Lanes& a, const Lanes& b) { \
        LaneMask<T, K> r;                                                          \
        ARTEL_K r.m[k] = hn::fn(a.v[k], b.v[k]);                                   \
        return r;                                                                  \
    }
    ARTEL_LANES_BINARY(+, Add)
    ARTEL_LANES_BINARY(-, Sub)
    ARTEL_LANES_BINARY(*, Mul)
    ARTEL_LANES_BINARY(/, Div)
    ARTEL_LANES_BINARY(&, And)
    ARTEL_LANES_BINARY(|, Or)
    ARTEL_LANES_COMPARE(<, Lt)
    ARTEL_LANES_COMPARE(>, Gt)
    ARTEL_LANES_COMPARE(<=, Le)
    ARTEL_LANES_COMPARE(==, Eq)
#undef ARTEL_LANES_BINARY
#undef ARTEL_LANES_COMPARE
    friend HWY_INLINE Lanes operator-(const Lanes& a) {
        Lanes r;
        ARTEL_K r.v[k] = hn::Neg(a.v[k]);
        return r;
    }
};

// The descriptors of the text: K double (or float) vectors and their
// same-width integers.
template <int K>
struct DoubleK {
    using F = Lanes<double, K>;
    using I = Lanes<std::int64_t, K>;
    using U = Lanes<std::uint64_t, K>;
};
template <int K>
struct FloatK {
    using F = Lanes<float, K>;
    using I = Lanes<std::int32_t, K>;
    using U = Lanes<std::uint32_t, K>;
};

// The functions the text calls besides operators (engine/math/lane.hpp has
// them for one lane).
template <typename TM, typename T, int K>
HWY_INLINE Lanes<T, K> Select(const LaneMask<TM, K>& m, const Lanes<T, K>& a, const Lanes<T, K>& b) {
    using D = typename Lanes<T, K>::D;
    Lanes<T, K> r;
    ARTEL_K r.v[k] = hn::IfThenElse(hn::RebindMask(D(), m.m[k]), a.v[k], b.v[k]);
    return r;
}
template <typename T, int K>
HWY_INLINE LaneMask<T, K> Or(const LaneMask<T, K>& a, const LaneMask<T, K>& b) {
    LaneMask<T, K> r;
    ARTEL_K r.m[k] = hn::Or(a.m[k], b.m[k]);
    return r;
}
template <typename T, int K>
HWY_INLINE bool AllTrue(const LaneMask<T, K>& m) {
    bool all = true;
    ARTEL_K all = all && hn::AllTrue(hn::ScalableTag<T>(), m.m[k]);
    return all;
}
template <typename TTo, typename T, int K>
HWY_INLINE Lanes<TTo, K> BitCastLanes(const Lanes<T, K>& a) {
    using D = typename Lanes<TTo, K>::D;
    Lanes<TTo, K> r;
    ARTEL_K r.v[k] = hn::BitCast(D(), a.v[k]);
    return r;
}
template <typename T, int K>
HWY_INLINE Lanes<hwy::MakeFloat<T>, K> AsF(const Lanes<T, K>& a) {
    return BitCastLanes<hwy::MakeFloat<T>>(a);
}
template <typename T, int K>
HWY_INLINE Lanes<hwy::MakeSigned<T>, K> AsI(const Lanes<T, K>& a) {
    return BitCastLanes<hwy::MakeSigned<T>>(a);
}
template <typename T, int K>
HWY_INLINE Lanes<hwy::MakeUnsigned<T>, K> AsU(const Lanes<T, K>& a) {
    return BitCastLanes<hwy::MakeUnsigned<T>>(a);
}
template <int K>
HWY_INLINE Lanes<double, K> ToF(const Lanes<std::int64_t, K>& a) {
    Lanes<double, K> r;
    ARTEL_K r.v[k] = I2D(a.v[k]);
    return r;
}
template <int K>
HWY_INLINE Lanes<float, K> ToF(const Lanes<std::int32_t, K>& a) {
    Lanes<float, K> r;
    ARTEL_K r.v[k] = hn::ConvertTo(hn::ScalableTag<float>(), a.v[k]);
    return r;
}
template <int n, typename T, int K>
HWY_INLINE Lanes<T, K> ShiftLeft(const Lanes<T, K>& a) {
    Lanes<T, K> r;
    ARTEL_K r.v[k] = hn::ShiftLeft<n>(a.v[k]);
    return r;
}
template <int n, typename T, int K>
HWY_INLINE Lanes<T, K> ShiftRight(const Lanes<T, K>& a) {
    Lanes<T, K> r;
    ARTEL_K r.v[k] = hn::ShiftRight<n>(a.v[k]);
    return r;
}
template <typename T, int K>
HWY_INLINE Lanes<T, K> Sqrt(const Lanes<T, K>& a) {
    Lanes<T, K> r;
    ARTEL_K r.v[k] = hn::Sqrt(a.v[k]);
    return r;
}

// K vectors of an array as Lanes, and back.
template <typename T, int K>
HWY_INLINE Lanes<T, K> In(const hn::Vec<hn::ScalableTag<T>>* x) {
    Lanes<T, K> r;
    ARTEL_K r.v[k] = x[k];
    return r;
}
template <typename T, int K>
HWY_INLINE void Out(const Lanes<T, K>& a, hn::Vec<hn::ScalableTag<T>>* y) {
    ARTEL_K y[k] = a.v[k];
}

// The one text of the deterministic maths, for this target.
namespace lane {
#define ARTEL_DMATH_INLINE HWY_INLINE
#include "engine/math/detmath_text.inc"
#include "engine/math/fmath_text.inc"
#undef ARTEL_DMATH_INLINE
}  // namespace lane

// ---- detmath on K vectors (arrays x[K]; K = 1 is the plain version) ---------

// dmath::exp; kGeneral = false: only for |x| <= 700 (lane::Exp).
template <int K, bool kGeneral = true>
HWY_INLINE void ExpK(const VF* x, VF* result) {
    Out(lane::Exp<kGeneral>(DoubleK<K>(), In<double, K>(x)), result);
}
// ExpK, the short form when every lane has |x| <= 700 (NaN fails the test).
template <int K>
HWY_INLINE void ExpAutoK(const VF* x, VF* result) {
    const DF d;
    bool small = true;
    ARTEL_K small = small && hn::AllTrue(d, hn::Le(hn::Abs(x[k]), SetF(700.0)));
    if (small) {
        ExpK<K, false>(x, result);
    } else {
        ExpK<K, true>(x, result);
    }
}
HWY_INLINE VF Exp(VF x) {
    VF y;
    ExpK<1>(&x, &y);
    return y;
}

// dmath::log; kGeneral = false: only for normal positive finite x (lane::Log).
template <int K, bool kGeneral = true>
HWY_INLINE void LogK(const VF* x, VF* result) {
    Out(lane::Log<kGeneral>(DoubleK<K>(), In<double, K>(x)), result);
}
HWY_INLINE VF Log(VF x) {
    VF y;
    LogK<1>(&x, &y);
    return y;
}

// dmath::sincos_2pi; with kWantSin = false only the cosine (s untouched).
template <int K, bool kWantSin>
HWY_INLINE void SinCos2PiK(const VF* u, VF* s, VF* c) {
    typename DoubleK<K>::F sl, cl;
    lane::SinCos2Pi<kWantSin>(DoubleK<K>(), In<double, K>(u), sl, cl);
    Out(cl, c);
    if constexpr (kWantSin) Out(sl, s);
}
template <bool kWantSin>
HWY_INLINE void SinCos2Pi(VF u, VF& s, VF& c) {
    SinCos2PiK<1, kWantSin>(&u, &s, &c);
}

// dmath::one_minus_exp_neg. With need_direct = false the exp branch is
// skipped when every lane has |x| < 1 (the result is the same).
template <int K>
HWY_INLINE void OneMinusExpNegK(const VF* x, VF* out, bool need_direct = true) {
    Out(lane::OneMinusExpNeg(DoubleK<K>(), In<double, K>(x), need_direct), out);
}
HWY_INLINE VF OneMinusExpNeg(VF x, bool need_direct = true) {
    VF y;
    OneMinusExpNegK<1>(&x, &y, need_direct);
    return y;
}

// household_model.cpp's clip01 and hazard.
HWY_INLINE VF Clip01(VF x) {
    const DF d;
    return Sel(hn::Lt(x, hn::Zero(d)), hn::Zero(d), Sel(hn::Gt(x, SetF(1.0)), SetF(1.0), x));
}
template <int K>
HWY_INLINE void HazardK(const VF* x, VF* out) {
    const DF d;
    OneMinusExpNegK<K>(x, out, false);
    ARTEL_K out[k] = Sel(hn::Le(x[k], hn::Zero(d)), hn::Zero(d), Clip01(out[k]));
}
HWY_INLINE VF Hazard(VF x) {
    VF y;
    HazardK<1>(&x, &y);
    return y;
}

// ---- random words -> numbers --------------------------------------------------

// rng::uniform01 of words held in 64-bit lanes (< 2^32): (w + 0.5)·2^-32,
// computed as ((2^52 + w) − (2^52 − 0.5))·2^-32, every step exact.
HWY_INLINE VF Uniform(VU w) {
    return hn::Mul(hn::Sub(hn::BitCast(DF(), hn::Or(w, SetU(0x4330000000000000ull))), SetF(0x1.fffffffffffffp51)),
                   SetF(0x1p-32));
}

// rng::normal_pair(w0, w1): z0 (and z1 when wanted).
template <int K, bool kWantZ1>
HWY_INLINE void NormalPairK(const VU* w0, const VU* w1, VF* z0, VF* z1) {
    typename DoubleK<K>::F u0, u1, z0l, z1l;
    ARTEL_K u0.v[k] = Uniform(w0[k]);
    ARTEL_K u1.v[k] = Uniform(w1[k]);
    // u0 in [2^-33, 1 - 2^-33]: normal, positive
    lane::BoxMuller<false, kWantZ1>(DoubleK<K>(), u0, u1, z0l, z1l);
    Out(z0l, z0);
    if constexpr (kWantZ1) Out(z1l, z1);
}
HWY_INLINE VF NormalZ0(VU w0, VU w1) {
    VF z0;
    NormalPairK<1, false>(&w0, &w1, &z0, nullptr);
    return z0;
}
HWY_INLINE void NormalPair(VU w0, VU w1, VF& z0, VF& z1) { NormalPairK<1, true>(&w0, &w1, &z0, &z1); }

// ---- single precision (engine/math/fmath.hpp) -------------------------------
//
// On twice as many lanes as double: a float vector holds the households of
// two double vectors. (HWY_SCALAR has one lane of each; the kernel calls
// fmath there directly.)
#if HWY_TARGET != HWY_SCALAR
using DF32 = hn::Repartition<float, DF>;
using DU32 = hn::Repartition<std::uint32_t, DF>;
using DI32 = hn::Repartition<std::int32_t, DF>;
using VF32 = hn::Vec<DF32>;
using VU32 = hn::Vec<DU32>;

// The low 32 bits of the lanes of lo, then of hi: words held in 64-bit lanes
// (< 2^32) as one vector of 32-bit lanes, in household order.
HWY_INLINE VU32 PackWords(VU lo, VU hi) {
    const DU32 d;
    return hn::ConcatEven(d, hn::BitCast(d, hi), hn::BitCast(d, lo));
}
// The lanes of a float vector as two double vectors (exact).
HWY_INLINE void Widen(VF32 v, VF& lo, VF& hi) {
    const DF d;
    const hn::Half<DF32> dh;
    lo = hn::PromoteTo(d, hn::LowerHalf(dh, v));
    hi = hn::PromoteTo(d, hn::UpperHalf(dh, v));
}

// fmath::normal_z0 lane-wise, K vectors at once.
template <int K>
HWY_INLINE void NormalZ0FK(const VU32* w0, const VU32* w1, VF32* z) {
    Out(lane::NormalZ0F(FloatK<K>(), In<std::uint32_t, K>(w0), In<std::uint32_t, K>(w1)), z);
}
// fmath::exp_small lane-wise, K vectors at once.
template <int K>
HWY_INLINE void ExpSmallFK(const VF32* x, VF32* y) {
    Out(lane::ExpSmall(FloatK<K>(), In<float, K>(x)), y);
}
// fmath::one_minus_exp_neg lane-wise, K vectors at once.
template <int K>
HWY_INLINE void OneMinusExpNegFK(const VF32* x, VF32* y) {
    Out(lane::OneMinusExpNegF(FloatK<K>(), In<float, K>(x)), y);
}
#endif  // HWY_TARGET != HWY_SCALAR

// ---- tallies ----------------------------------------------------------------

// model::to_fixed (std::llrint(x · 2^20)) lane-wise.
HWY_INLINE VI ToFixed(VF x) {
    const VF v = hn::Mul(x, SetF(artel::model::kFixedScale));
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
    // vcvtpd2qq rounds by MXCSR (nearest-even) and returns 0x8000000000000000
    // for NaN and out-of-range values, exactly as cvtsd2si does for llrint.
    return VI{_mm512_cvtpd_epi64(v.raw)};
#elif HWY_TARGET == HWY_SCALAR
    return hn::Set(DI(), static_cast<std::int64_t>(std::llrint(hn::GetLane(v))));
#else
    // (v + 1.5·2^52) rounds v to an integer, nearest-even, exactly as llrint
    // for |v| < 2^51; larger values and NaN (never met in practice) go lane
    // by lane through llrint itself.
    const DF d;
    const MF ok = hn::Lt(hn::Abs(v), SetF(0x1p51));
    if (HWY_LIKELY(hn::AllTrue(d, ok))) return RoundShiftedToInt(hn::Add(v, SetF(0x1.8p52)));
    HWY_ALIGN double lanes[HWY_LANES(double)];
    HWY_ALIGN std::int64_t out[HWY_LANES(double)];
    hn::Store(v, d, lanes);
    for (std::size_t l = 0; l < hn::Lanes(d); ++l) out[l] = std::llrint(lanes[l]);
    return hn::Load(DI(), out);
#endif
}

// model::gini_bin lane-wise (wealth >= 0 or NaN).
HWY_INLINE VI GiniBin(VF w) {
    using namespace artel::model;
    const DI di;
    const VU bits = hn::BitCast(DU(), w);
    const VI exponent = hn::Sub(hn::BitCast(di, hn::And(hn::ShiftRight<52>(bits), SetU(0x7ff))), SetI(1023));
    const VI sub = hn::BitCast(di, hn::And(hn::ShiftRight<52 - kGiniSubBits>(bits), SetU((1u << kGiniSubBits) - 1)));
    VI bin = hn::Add(hn::Add(hn::ShiftLeft<kGiniSubBits>(hn::Sub(exponent, SetI(kGiniMinExp))), sub), SetI(1));
    bin = Sel(hn::Gt(exponent, SetI(kGiniMaxExp - 1)), SetI(kGiniBins - 1), bin);
    // !(wealth >= 2^-8) -> 0 (also NaN)
    bin = Sel(hn::Not(hn::Ge(w, SetF(1.0 / 256.0))), hn::Zero(di), bin);
    return bin;
}

#undef ARTEL_K

}  // namespace HWY_NAMESPACE
}  // namespace vec
}  // namespace artel
HWY_AFTER_NAMESPACE();

#endif  // include guard
