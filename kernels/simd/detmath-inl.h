// Lane-wise versions of engine/math/detmath.hpp and of the integer/double
// conversions the kernel needs, for one Highway target (included once per
// target by foreach_target.h).
//
// Every function performs exactly the IEEE operations of its scalar
// counterpart, in the same order (selects become blends; no FMA: the build
// uses -ffp-contract=off, and Highway's Mul/Add/Sub/Div/Sqrt are the
// correctly rounded IEEE operations), so each lane's result is bit-identical
// to the scalar function's. tests/test_simd.cpp checks this on every target.

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

// ---- detmath ----------------------------------------------------------------
//
// Each function is written for K independent vectors at once (arrays x[K]),
// statement by statement, so that the K dependency chains interleave: these
// polynomials are long chains of dependent operations, and one vector alone
// would leave the FP units idle. K = 1 is the plain version.

#define ARTEL_K _Pragma("GCC unroll 16") for (int k = 0; k < K; ++k)

// dmath::exp. With kGeneral = false, only for |x| <= 700 (finite, no
// overflow or underflow): the clamps and the final selects are left out,
// which changes nothing for such x (ExpAuto checks the range).
template <int K, bool kGeneral = true>
HWY_INLINE void ExpK(const VF* x, VF* result) {
    using namespace artel::dmath::detail;
    constexpr double kP1 = 1.66666666666666019037e-01;
    constexpr double kP2 = -2.77777777770155933842e-03;
    constexpr double kP3 = 6.61375632143793436117e-05;
    constexpr double kP4 = -1.65339022054652515390e-06;
    constexpr double kP5 = 4.13813679705723846039e-08;
    constexpr double kOverflow = 7.09782712893383973096e+02;
    constexpr double kUnderflow = -7.45133219101941108420e+02;
    const DF d;
    VF xc[K], shifted[K], kd[K], hi[K], lo[K], r[K], t[K], poly[K], c[K], y[K];
    VI kk[K], k1[K], k2[K];
    if constexpr (kGeneral) {
        ARTEL_K xc[k] = Sel(hn::Gt(x[k], SetF(710.0)), SetF(710.0), x[k]);
        ARTEL_K xc[k] = Sel(hn::Lt(xc[k], SetF(-746.0)), SetF(-746.0), xc[k]);
        ARTEL_K xc[k] = Sel(hn::Eq(xc[k], xc[k]), xc[k], hn::Zero(d));
    } else {
        ARTEL_K xc[k] = x[k];
    }
    ARTEL_K shifted[k] = hn::Add(hn::Mul(xc[k], SetF(kInvLn2)), SetF(kRoundShift));
    ARTEL_K kd[k] = hn::Sub(shifted[k], SetF(kRoundShift));
    ARTEL_K kk[k] = RoundShiftedToInt(shifted[k]);
    ARTEL_K hi[k] = hn::Sub(xc[k], hn::Mul(kd[k], SetF(kLn2Hi)));
    ARTEL_K lo[k] = hn::Mul(kd[k], SetF(kLn2Lo));
    ARTEL_K r[k] = hn::Sub(hi[k], lo[k]);
    ARTEL_K t[k] = hn::Mul(r[k], r[k]);
    ARTEL_K poly[k] = hn::Add(SetF(kP4), hn::Mul(t[k], SetF(kP5)));
    ARTEL_K poly[k] = hn::Add(SetF(kP3), hn::Mul(t[k], poly[k]));
    ARTEL_K poly[k] = hn::Add(SetF(kP2), hn::Mul(t[k], poly[k]));
    ARTEL_K poly[k] = hn::Add(SetF(kP1), hn::Mul(t[k], poly[k]));
    ARTEL_K c[k] = hn::Sub(r[k], hn::Mul(t[k], poly[k]));
    ARTEL_K y[k] = hn::Sub(
        SetF(1.0), hn::Sub(hn::Sub(lo[k], hn::Div(hn::Mul(r[k], c[k]), hn::Sub(SetF(2.0), c[k]))), hi[k]));
    ARTEL_K k1[k] = hn::ShiftRight<1>(kk[k]);  // arithmetic
    ARTEL_K k2[k] = hn::Sub(kk[k], k1[k]);
    ARTEL_K {
        const VF s1 = hn::BitCast(d, hn::ShiftLeft<52>(hn::Add(k1[k], SetI(1023))));
        const VF s2 = hn::BitCast(d, hn::ShiftLeft<52>(hn::Add(k2[k], SetI(1023))));
        result[k] = hn::Mul(hn::Mul(y[k], s1), s2);
    }
    if constexpr (kGeneral) {
        ARTEL_K result[k] =
            Sel(hn::Gt(x[k], SetF(kOverflow)), SetF(std::numeric_limits<double>::infinity()), result[k]);
        ARTEL_K result[k] = Sel(hn::Lt(x[k], SetF(kUnderflow)), hn::Zero(d), result[k]);
        ARTEL_K result[k] = Sel(hn::Eq(x[k], x[k]), result[k], hn::Add(x[k], x[k]));
    }
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

// dmath::log. With kGeneral = false, only for x in [2^-1022, DBL_MAX]
// (normal, positive, finite: e.g. uniforms): the selects that handle
// subnormal, zero, negative, infinite and NaN arguments are left out, which
// changes nothing for such x.
template <int K, bool kGeneral = true>
HWY_INLINE void LogK(const VF* x, VF* result) {
    using namespace artel::dmath::detail;
    constexpr double kLg1 = 6.666666666666735130e-01;
    constexpr double kLg2 = 3.999999999940941908e-01;
    constexpr double kLg3 = 2.857142874366239149e-01;
    constexpr double kLg4 = 2.222219843214978396e-01;
    constexpr double kLg5 = 1.818357216161805012e-01;
    constexpr double kLg6 = 1.531383769920937332e-01;
    constexpr double kLg7 = 1.479819860511658591e-01;
    constexpr std::uint64_t kMantMask = (std::uint64_t{1} << 52) - 1;
    constexpr std::uint64_t kSqrt2Mant = 0x6A09E667F3BCDull;
    const DF d;
    const DI di;
    const DU du;
    VF dk[K], f[K], hfsq[K], s[K], z[K], w[K], R[K];
    ARTEL_K {
        VF xs = x[k];
        MF subnormal;
        if constexpr (kGeneral) {
            subnormal = hn::Lt(x[k], SetF(0x1p-1022));
            xs = Sel(subnormal, hn::Mul(x[k], SetF(0x1p54)), x[k]);
        }
        const VU bits = hn::BitCast(du, xs);
        const VI expo = hn::BitCast(di, hn::And(hn::ShiftRight<52>(bits), SetU(0x7FF)));
        VI e = hn::Sub(expo, SetI(1023));
        if constexpr (kGeneral) e = hn::Sub(e, Sel(subnormal, SetI(54), hn::Zero(di)));
        const VU mant = hn::And(bits, SetU(kMantMask));
        // mant < 2^52: a signed comparison is the unsigned one
        const MI high = hn::Gt(hn::BitCast(di, mant), SetI(static_cast<std::int64_t>(kSqrt2Mant) - 1));
        const VU mexp = hn::IfThenElse(hn::RebindMask(du, high), SetU(0x3FE), SetU(0x3FF));
        const VF m = hn::BitCast(d, hn::Or(hn::ShiftLeft<52>(mexp), mant));
        dk[k] = I2D(hn::Add(e, Sel(high, SetI(1), hn::Zero(di))));
        f[k] = hn::Sub(m, SetF(1.0));
    }
    ARTEL_K hfsq[k] = hn::Mul(hn::Mul(SetF(0.5), f[k]), f[k]);
    ARTEL_K s[k] = hn::Div(f[k], hn::Add(SetF(2.0), f[k]));
    ARTEL_K z[k] = hn::Mul(s[k], s[k]);
    ARTEL_K w[k] = hn::Mul(z[k], z[k]);
    ARTEL_K {
        const VF t1 =
            hn::Mul(w[k], hn::Add(SetF(kLg2), hn::Mul(w[k], hn::Add(SetF(kLg4), hn::Mul(w[k], SetF(kLg6))))));
        const VF t2 = hn::Mul(
            z[k], hn::Add(SetF(kLg1), hn::Mul(w[k], hn::Add(SetF(kLg3),
                                                             hn::Mul(w[k], hn::Add(SetF(kLg5),
                                                                                   hn::Mul(w[k], SetF(kLg7))))))));
        R[k] = hn::Add(t2, t1);
    }
    ARTEL_K result[k] = hn::Sub(
        hn::Mul(dk[k], SetF(kLn2Hi)),
        hn::Sub(hn::Sub(hfsq[k], hn::Add(hn::Mul(s[k], hn::Add(hfsq[k], R[k])), hn::Mul(dk[k], SetF(kLn2Lo)))),
                f[k]));
    if constexpr (kGeneral) ARTEL_K {
        result[k] = Sel(hn::Eq(x[k], hn::Zero(d)), SetF(-std::numeric_limits<double>::infinity()), result[k]);
        result[k] = Sel(hn::Lt(x[k], hn::Zero(d)), SetF(std::numeric_limits<double>::quiet_NaN()), result[k]);
        result[k] = Sel(hn::Eq(x[k], SetF(std::numeric_limits<double>::infinity())), x[k], result[k]);
        result[k] = Sel(hn::Eq(x[k], x[k]), result[k], hn::Add(x[k], x[k]));
    }
}
HWY_INLINE VF Log(VF x) {
    VF y;
    LogK<1>(&x, &y);
    return y;
}

// dmath::sincos_2pi; with kWantSin = false only the cosine (s untouched).
template <int K, bool kWantSin>
HWY_INLINE void SinCos2PiK(const VF* u, VF* s, VF* c) {
    using namespace artel::dmath::detail;
    constexpr double kPiO2 = 0x1.921fb54442d18p0;
    constexpr double kS1 = -1.66666666666666324348e-01;
    constexpr double kS2 = 8.33333333332248946124e-03;
    constexpr double kS3 = -1.98412698298579493134e-04;
    constexpr double kS4 = 2.75573137070700676789e-06;
    constexpr double kS5 = -2.50507602534068634195e-08;
    constexpr double kS6 = 1.58969099521155010221e-10;
    constexpr double kC1 = 4.16666666666666019037e-02;
    constexpr double kC2 = -1.38888888888741095749e-03;
    constexpr double kC3 = 2.48015872894767294178e-05;
    constexpr double kC4 = -2.75573143513906633035e-07;
    constexpr double kC5 = 2.08757232129817482790e-09;
    constexpr double kC6 = -1.13596475577881948265e-11;
    const DF d;
    const DU du;
    VF x[K], z[K], rs[K], rc[K], sx[K], cx[K];
    VI qi[K];
    ARTEL_K {
        const VF t = hn::Mul(u[k], SetF(4.0));
        const VF shifted = hn::Add(t, SetF(kRoundShift));
        const VF q = hn::Sub(shifted, SetF(kRoundShift));
        qi[k] = RoundShiftedToInt(shifted);
        x[k] = hn::Mul(hn::Sub(t, q), SetF(kPiO2));
    }
    ARTEL_K z[k] = hn::Mul(x[k], x[k]);
    ARTEL_K rs[k] = hn::Add(SetF(kS5), hn::Mul(z[k], SetF(kS6)));
    ARTEL_K rc[k] = hn::Add(SetF(kC5), hn::Mul(z[k], SetF(kC6)));
    ARTEL_K rs[k] = hn::Add(SetF(kS4), hn::Mul(z[k], rs[k]));
    ARTEL_K rc[k] = hn::Add(SetF(kC4), hn::Mul(z[k], rc[k]));
    ARTEL_K rs[k] = hn::Add(SetF(kS3), hn::Mul(z[k], rs[k]));
    ARTEL_K rc[k] = hn::Add(SetF(kC3), hn::Mul(z[k], rc[k]));
    ARTEL_K rs[k] = hn::Add(SetF(kS2), hn::Mul(z[k], rs[k]));
    ARTEL_K rc[k] = hn::Add(SetF(kC2), hn::Mul(z[k], rc[k]));
    ARTEL_K rc[k] = hn::Add(SetF(kC1), hn::Mul(z[k], rc[k]));
    ARTEL_K rc[k] = hn::Mul(z[k], rc[k]);
    ARTEL_K sx[k] = hn::Add(x[k], hn::Mul(hn::Mul(z[k], x[k]), hn::Add(SetF(kS1), hn::Mul(z[k], rs[k]))));
    ARTEL_K {
        const VF ax = Sel(hn::Lt(x[k], hn::Zero(d)), hn::Neg(x[k]), x[k]);
        const VF qx_big = hn::BitCast(d, hn::And(hn::Sub(hn::BitCast(du, ax), SetU(std::uint64_t{0x00200000} << 32)),
                                                 SetU(0xFFFFFFFF00000000ull)));
        VF qx = Sel(hn::Gt(ax, SetF(0.78125)), SetF(0.28125), qx_big);
        qx = Sel(hn::Lt(ax, SetF(0.3)), hn::Zero(d), qx);
        const VF hz = hn::Sub(hn::Mul(SetF(0.5), z[k]), qx);
        const VF a = hn::Sub(SetF(1.0), qx);
        cx[k] = hn::Sub(a, hn::Sub(hz, hn::Mul(z[k], rc[k])));
    }
    ARTEL_K {
        const VI j = hn::And(qi[k], SetI(3));
        const MF swap = ToF(hn::Eq(hn::And(j, SetI(1)), SetI(1)));
        const VF c0 = Sel(swap, sx[k], cx[k]);
        // c = (j == 1 || j == 2) ? -c0 : c0;   s = (j >= 2) ? -s0 : s0
        const MF negc = ToF(hn::Or(hn::Eq(j, SetI(1)), hn::Eq(j, SetI(2))));
        c[k] = Sel(negc, hn::Neg(c0), c0);
        if constexpr (kWantSin) {
            const VF s0 = Sel(swap, cx[k], sx[k]);
            const MF negs = ToF(hn::Gt(j, SetI(1)));
            s[k] = Sel(negs, hn::Neg(s0), s0);
        }
    }
}
template <bool kWantSin>
HWY_INLINE void SinCos2Pi(VF u, VF& s, VF& c) {
    SinCos2PiK<1, kWantSin>(&u, &s, &c);
}

// dmath::one_minus_exp_neg. With need_direct = false the exp branch is
// skipped when every lane has |x| < 1 (the result is the same).
template <int K>
HWY_INLINE void OneMinusExpNegK(const VF* x, VF* out, bool need_direct = true) {
    constexpr double kA[19] = {
        1.0,
        -1.0 / 2.0,
        1.0 / 6.0,
        -1.0 / 24.0,
        1.0 / 120.0,
        -1.0 / 720.0,
        1.0 / 5040.0,
        -1.0 / 40320.0,
        1.0 / 362880.0,
        -1.0 / 3628800.0,
        1.0 / 39916800.0,
        -1.0 / 479001600.0,
        1.0 / 6227020800.0,
        -1.0 / 87178291200.0,
        1.0 / 1307674368000.0,
        -1.0 / 20922789888000.0,
        1.0 / 355687428096000.0,
        -1.0 / 6402373705728000.0,
        1.0 / 121645100408832000.0,
    };
    const DF d;
    VF p[K], x2[K], x4[K], x8[K], x16[K];
    MF small[K];
    // Estrin's scheme, as dmath::one_minus_exp_neg
    ARTEL_K x2[k] = hn::Mul(x[k], x[k]);
    ARTEL_K x4[k] = hn::Mul(x2[k], x2[k]);
    ARTEL_K x8[k] = hn::Mul(x4[k], x4[k]);
    ARTEL_K x16[k] = hn::Mul(x8[k], x8[k]);
    ARTEL_K {
        VF q[8];
        for (int j = 0; j < 8; ++j) q[j] = hn::Add(SetF(kA[2 * j + 2]), hn::Mul(SetF(kA[2 * j + 3]), x[k]));
        const VF r0 = hn::Add(q[0], hn::Mul(q[1], x2[k])), r1 = hn::Add(q[2], hn::Mul(q[3], x2[k]));
        const VF r2 = hn::Add(q[4], hn::Mul(q[5], x2[k])), r3 = hn::Add(q[6], hn::Mul(q[7], x2[k]));
        const VF s0 = hn::Add(r0, hn::Mul(r1, x4[k])), s1 = hn::Add(r2, hn::Mul(r3, x4[k]));
        p[k] = hn::Add(hn::Add(s0, hn::Mul(s1, x8[k])), hn::Mul(SetF(kA[18]), x16[k]));
    }
    bool all_small = true;
    ARTEL_K {
        out[k] = hn::Sub(x[k], hn::Sub(hn::Mul(SetF(0.5), x2[k]), hn::Mul(hn::Mul(x2[k], x[k]), p[k])));
        const VF ax = Sel(hn::Lt(x[k], hn::Zero(d)), hn::Neg(x[k]), x[k]);
        small[k] = hn::Lt(ax, SetF(1.0));
        all_small = all_small && hn::AllTrue(d, small[k]);
    }
    if (!need_direct && all_small) return;
    VF nx[K], e[K];
    ARTEL_K nx[k] = hn::Neg(x[k]);
    ExpK<K>(nx, e);
    ARTEL_K out[k] = Sel(small[k], out[k], hn::Sub(SetF(1.0), e[k]));
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
    VF u0[K], u1[K], lg[K], s[K], c[K];
    ARTEL_K u0[k] = Uniform(w0[k]);
    ARTEL_K u1[k] = Uniform(w1[k]);
    LogK<K, false>(u0, lg);  // u0 in [2^-33, 1 - 2^-33]: normal, positive
    SinCos2PiK<K, kWantZ1>(u1, s, c);
    ARTEL_K {
        const VF r = hn::Sqrt(hn::Mul(SetF(-2.0), lg[k]));
        z0[k] = hn::Mul(r, c[k]);
        if constexpr (kWantZ1) z1[k] = hn::Mul(r, s[k]);
    }
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
    const DF32 d;
    const DU32 du;
    const DI32 di;
    const auto F = [&](float x) { return hn::Set(d, x); };
    VF32 u0[K], u1[K], x[K], fe[K], zz[K], p[K], lg[K];
    ARTEL_K u0[k] = hn::Mul(hn::ConvertTo(d, hn::BitCast(di, hn::Add(hn::ShiftRight<8>(w0[k]), hn::Set(du, 1u)))),
                            F(0x1p-24f));
    ARTEL_K u1[k] = hn::Mul(hn::ConvertTo(d, hn::BitCast(di, hn::ShiftRight<8>(w1[k]))), F(0x1p-24f));
    // log_pos(u0)
    ARTEL_K {
        const VU32 bits = hn::BitCast(du, u0[k]);
        const auto e0 = hn::Sub(hn::BitCast(di, hn::And(hn::ShiftRight<23>(bits), hn::Set(du, 0xFFu))),
                                hn::Set(di, 126));
        const VF32 m0 = hn::BitCast(d, hn::Or(hn::And(bits, hn::Set(du, 0x007FFFFFu)), hn::Set(du, 0x3F000000u)));
        const auto low = hn::Lt(m0, F(0.707106781186547524f));
        x[k] = hn::IfThenElse(low, hn::Sub(hn::Add(m0, m0), F(1.0f)), hn::Sub(m0, F(1.0f)));
        fe[k] = hn::ConvertTo(d, hn::IfThenElse(hn::RebindMask(di, low), hn::Sub(e0, hn::Set(di, 1)), e0));
        zz[k] = hn::Mul(x[k], x[k]);
        p[k] = F(7.0376836292e-2f);
    }
    ARTEL_K p[k] = hn::Add(hn::Mul(p[k], x[k]), F(-1.1514610310e-1f));
    ARTEL_K p[k] = hn::Add(hn::Mul(p[k], x[k]), F(1.1676998740e-1f));
    ARTEL_K p[k] = hn::Add(hn::Mul(p[k], x[k]), F(-1.2420140846e-1f));
    ARTEL_K p[k] = hn::Add(hn::Mul(p[k], x[k]), F(1.4249322787e-1f));
    ARTEL_K p[k] = hn::Add(hn::Mul(p[k], x[k]), F(-1.6668057665e-1f));
    ARTEL_K p[k] = hn::Add(hn::Mul(p[k], x[k]), F(2.0000714765e-1f));
    ARTEL_K p[k] = hn::Add(hn::Mul(p[k], x[k]), F(-2.4999993993e-1f));
    ARTEL_K p[k] = hn::Add(hn::Mul(p[k], x[k]), F(3.3333331174e-1f));
    ARTEL_K {
        VF32 y = hn::Mul(x[k], hn::Mul(zz[k], p[k]));
        y = hn::Add(y, hn::Mul(F(-2.12194440e-4f), fe[k]));
        y = hn::Add(y, hn::Mul(F(-0.5f), zz[k]));
        const VF32 r = hn::Add(x[k], y);
        lg[k] = hn::Add(r, hn::Mul(F(0.693359375f), fe[k]));
    }
    // cos_2pi(u1)
    VF32 xc[K], c[K], s[K];
    hn::Mask<DF32> odd[K], neg[K];
    ARTEL_K {
        const VF32 t = hn::Mul(u1[k], F(4.0f));
        const VF32 shifted = hn::Add(t, F(fmath::detail::kRoundShift));
        const VF32 q = hn::Sub(shifted, F(fmath::detail::kRoundShift));
        const auto j = hn::And(hn::Sub(hn::BitCast(du, shifted), hn::BitCast(du, F(fmath::detail::kRoundShift))),
                               hn::Set(du, 3u));
        odd[k] = hn::RebindMask(d, hn::Eq(hn::And(j, hn::Set(du, 1u)), hn::Set(du, 1u)));
        neg[k] = hn::RebindMask(d, hn::Or(hn::Eq(j, hn::Set(du, 1u)), hn::Eq(j, hn::Set(du, 2u))));
        xc[k] = hn::Mul(hn::Sub(t, q), F(1.57079637f));
        zz[k] = hn::Mul(xc[k], xc[k]);
        c[k] = hn::Add(hn::Mul(F(2.443315711809948e-5f), zz[k]), F(-1.388731625493765e-3f));
        s[k] = hn::Add(hn::Mul(F(-1.9515295891e-4f), zz[k]), F(8.3321608736e-3f));
    }
    ARTEL_K {
        c[k] = hn::Add(hn::Mul(c[k], zz[k]), F(4.166664568298827e-2f));
        s[k] = hn::Add(hn::Mul(s[k], zz[k]), F(-1.6666654611e-1f));
    }
    ARTEL_K {
        c[k] = hn::Mul(hn::Mul(c[k], zz[k]), zz[k]);
        c[k] = hn::Sub(c[k], hn::Mul(F(0.5f), zz[k]));
        c[k] = hn::Add(c[k], F(1.0f));
        s[k] = hn::Mul(hn::Mul(s[k], zz[k]), xc[k]);
        s[k] = hn::Add(s[k], xc[k]);
        const VF32 a = hn::IfThenElse(odd[k], s[k], c[k]);
        const VF32 cs = hn::IfThenElse(neg[k], hn::Neg(a), a);
        z[k] = hn::Mul(hn::Sqrt(hn::Mul(F(-2.0f), lg[k])), cs);
    }
}
// fmath::exp_small lane-wise, K vectors at once.
template <int K>
HWY_INLINE void ExpSmallFK(const VF32* x, VF32* y) {
    const DF32 d;
    const DU32 du;
    const auto F = [&](float v) { return hn::Set(d, v); };
    const VF32 shift = F(fmath::detail::kRoundShift);
    VF32 n[K], r[K], z[K], p[K], scale[K];
    ARTEL_K {
        const VF32 shifted = hn::Add(hn::Mul(x[k], F(1.44269504088896341f)), shift);
        n[k] = hn::Sub(shifted, shift);
        const VU32 ni = hn::Sub(hn::BitCast(du, shifted), hn::BitCast(du, shift));
        scale[k] = hn::BitCast(d, hn::ShiftLeft<23>(hn::Add(ni, hn::Set(du, 127u))));
        r[k] = hn::Sub(x[k], hn::Mul(n[k], F(0.693359375f)));
    }
    ARTEL_K {
        r[k] = hn::Sub(r[k], hn::Mul(n[k], F(-2.12194440e-4f)));
        z[k] = hn::Mul(r[k], r[k]);
        p[k] = hn::Add(hn::Mul(F(1.9875691500e-4f), r[k]), F(1.3981999507e-3f));
    }
    ARTEL_K p[k] = hn::Add(hn::Mul(p[k], r[k]), F(8.3334519073e-3f));
    ARTEL_K p[k] = hn::Add(hn::Mul(p[k], r[k]), F(4.1665795894e-2f));
    ARTEL_K p[k] = hn::Add(hn::Mul(p[k], r[k]), F(1.6666665459e-1f));
    ARTEL_K p[k] = hn::Add(hn::Mul(p[k], r[k]), F(5.0000001201e-1f));
    ARTEL_K y[k] = hn::Mul(hn::Add(hn::Add(hn::Mul(p[k], z[k]), r[k]), F(1.0f)), scale[k]);
}
// fmath::one_minus_exp_neg lane-wise, K vectors at once.
template <int K>
HWY_INLINE void OneMinusExpNegFK(const VF32* x, VF32* y) {
    const DF32 d;
    VF32 c[K];
    ARTEL_K c[k] = hn::Neg(hn::IfThenElse(hn::Gt(x[k], hn::Zero(d)),
                                          hn::IfThenElse(hn::Lt(x[k], hn::Set(d, 80.0f)), x[k], hn::Set(d, 80.0f)),
                                          hn::Zero(d)));
    ExpSmallFK<K>(c, y);
    ARTEL_K y[k] = hn::Sub(hn::Set(d, 1.0f), y[k]);
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
