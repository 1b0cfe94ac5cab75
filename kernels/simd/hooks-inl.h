// The vector kernel's building blocks run alone, for tests and benchmarks
// (kernels/simd/step_simd.hpp, namespace simd), once per instruction set.
#if defined(ARTEL_KERNELS_SIMD_HOOKS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ARTEL_KERNELS_SIMD_HOOKS_INL_H_
#undef ARTEL_KERNELS_SIMD_HOOKS_INL_H_
#else
#define ARTEL_KERNELS_SIMD_HOOKS_INL_H_
#endif

#include <algorithm>
#include <bit>
#include <cstdint>

#include <hwy/highway.h>

#include "engine/math/fmath.hpp"
#include "engine/random/philox.hpp"
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


}  // namespace HWY_NAMESPACE
}  // namespace simd_detail
}  // namespace model
}  // namespace artel
HWY_AFTER_NAMESPACE();

#endif  // ARTEL_KERNELS_SIMD_HOOKS_INL_H_
