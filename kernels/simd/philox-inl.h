// Philox4x32-10 lane-wise (one counter per 64-bit lane) for one Highway
// target, bit-identical to engine/random/philox.hpp (and so to Random123).
//
// Each 32-bit counter word lives in the low half of a 64-bit lane. The
// 32x32->64 products are MulEven on the 32-bit view (vpmuludq: it reads only
// the low half of each 64-bit lane), so the high halves may hold garbage
// during the rounds; the four outputs are masked to 32 bits at the end. The
// 64-bit lanes match the kernel's double lanes one to one, so a word turns
// into a uniform without shuffles.

#if defined(ARTEL_KERNELS_SIMD_PHILOX_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ARTEL_KERNELS_SIMD_PHILOX_INL_H_
#undef ARTEL_KERNELS_SIMD_PHILOX_INL_H_
#else
#define ARTEL_KERNELS_SIMD_PHILOX_INL_H_
#endif

#include <cstdint>

#include <hwy/highway.h>

#include "engine/random/philox.hpp"
#include "kernels/simd/detmath-inl.h"
#include "kernels/simd/draw_count.hpp"
#include "engine/random/threshold.hpp"

HWY_BEFORE_NAMESPACE();
namespace artel {
namespace vec {
namespace HWY_NAMESPACE {

// 32x32 -> 64-bit product of the low halves of each 64-bit lane.
HWY_INLINE VU Mul32(VU a, VU b) {
#if HWY_TARGET == HWY_SCALAR
    const VU m = SetU(0xFFFFFFFFull);
    return hn::Mul(hn::And(a, m), hn::And(b, m));
#else
    const hn::Repartition<std::uint32_t, DU> d32;
    return hn::MulEven(hn::BitCast(d32, a), hn::BitCast(d32, b));
#endif
}

struct Words4 {
    VU w[4];
};

// Philox4x32-10 of four counter vectors (low 32 bits of each lane).
HWY_INLINE Words4 Philox(VU c0, VU c1, VU c2, VU c3, std::uint32_t key0, std::uint32_t key1) {
    using namespace artel::rng::philox_detail;
    const VU m0 = SetU(kM0), m1 = SetU(kM1);
    std::uint32_t k0 = key0, k1 = key1;
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += kW0;
            k1 += kW1;
        }
        const VU p0 = Mul32(m0, c0);
        const VU p1 = Mul32(m1, c2);
        const VU n0 = hn::Xor3(hn::ShiftRight<32>(p1), c1, SetU(k0));
        const VU n2 = hn::Xor3(hn::ShiftRight<32>(p0), c3, SetU(k1));
        c0 = n0;
        c1 = p1;
        c2 = n2;
        c3 = p0;
    }
    const VU mask = SetU(0xFFFFFFFFull);
    return {{hn::And(c0, mask), hn::And(c1, mask), hn::And(c2, mask), hn::And(c3, mask)}};
}

// The kernel's case: counter (ctr0, entity, ctr2, block) with ctr0, ctr2 and
// the block the same in every lane (replication, slot|purpose, draw block)
// and the entity in c1 (household ids). The first round is then
// lane-invariant, and rounds 2 and 3 have a lane product that does not depend
// on the block: PrepareStream computes the invariant parts once per stream.
struct StreamConst {
    std::uint32_t ctr0, ctr2;   // replication, (slot << 8) | purpose
    std::uint32_t key0, key1;
    // Lane-invariant parts of the rounds, from PrepareStream():
    std::uint64_t x0;              // after round 1: c0 = entity ^ x0
    std::uint64_t b2x;             // after round 2: c2 = hi(product) ^ b2x
    std::uint64_t k0r[10], k1r[10];  // round keys
    static constexpr int kTable = 8;
    std::uint64_t r3c0[kTable], r3c2[kTable], r3c3[kTable];  // after round 3, per block
};

// The constants after round 3 of block `block`: c0 = hi(q1) ^ c0x,
// c2 = p0 ^ c2x (p0, q1 the lane products of rounds 2 and 3), c3 = c3.
inline void Round3Consts(const StreamConst& sc, std::uint32_t block, std::uint64_t& c0x, std::uint64_t& c2x,
                         std::uint64_t& c3) {
    using namespace artel::rng::philox_detail;
    const std::uint64_t p0 = std::uint64_t{kM0} * sc.ctr0;
    const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32);
    const std::uint32_t a1 = static_cast<std::uint32_t>(std::uint64_t{kM1} * sc.ctr2);  // lo1 of round 1
    // round 2: c2 (block-dependent, invariant) = hi0 ^ block ^ key1
    const std::uint64_t q = std::uint64_t{kM1} * (hi0 ^ block ^ sc.key1);
    const std::uint32_t b0 = static_cast<std::uint32_t>(q >> 32) ^ a1 ^ static_cast<std::uint32_t>(sc.k0r[1]);
    const std::uint32_t b1 = static_cast<std::uint32_t>(q);
    // round 3
    const std::uint64_t r = std::uint64_t{kM0} * b0;
    c0x = b1 ^ static_cast<std::uint32_t>(sc.k0r[2]);
    c2x = static_cast<std::uint32_t>(r >> 32) ^ static_cast<std::uint32_t>(sc.k1r[2]);
    c3 = static_cast<std::uint32_t>(r);
}

inline StreamConst PrepareStream(std::uint32_t ctr0, std::uint32_t ctr2, std::uint32_t key0, std::uint32_t key1) {
    using namespace artel::rng::philox_detail;
    StreamConst sc{};
    sc.ctr0 = ctr0, sc.ctr2 = ctr2, sc.key0 = key0, sc.key1 = key1;
    std::uint32_t k0 = key0, k1 = key1;
    for (int r = 0; r < 10; ++r) {
        if (r > 0) k0 += kW0, k1 += kW1;
        sc.k0r[r] = k0, sc.k1r[r] = k1;
    }
    const std::uint64_t p0 = std::uint64_t{kM0} * ctr0;
    const std::uint64_t p1 = std::uint64_t{kM1} * ctr2;
    sc.x0 = static_cast<std::uint32_t>(p1 >> 32) ^ key0;
    sc.b2x = static_cast<std::uint32_t>(p0) ^ static_cast<std::uint32_t>(sc.k1r[1]);  // a3 ^ k1 (round 2)
    for (int b = 0; b < StreamConst::kTable; ++b)
        Round3Consts(sc, static_cast<std::uint32_t>(b), sc.r3c0[b], sc.r3c2[b], sc.r3c3[b]);
    return sc;
}

// K blocks (blocks[0..K-1]) of one stream for U vectors of entities (c1[u]),
// all U·K evaluations interleaved (one Philox is a chain of 30 dependent
// operations; several in flight keep the multipliers busy). The first round
// is lane-invariant, and rounds 2 and 3 have a lane product that does not
// depend on the block, so they are shared by the K blocks of a vector.
// out[k·U + u] = block blocks[k] of entity vector u.
template <int U, int K>
HWY_NOINLINE void PhiloxMulti(const VU* c1, const StreamConst& sc, const std::uint32_t* blocks, Words4* out,
                              int kstride = U, int ustride = 1) {
    if (HWY_UNLIKELY(artel::model::simd::detail::counting()))
        artel::model::simd::detail::counts().generated += static_cast<std::int64_t>(4 * K * U * hn::Lanes(DU()));
    const VU m0 = SetU(artel::rng::philox_detail::kM0), m1 = SetU(artel::rng::philox_detail::kM1);
    // Rounds 1-2: the lane product of round 2 does not depend on the block.
    VU p0[U], q1[U], q1hi[U];
#pragma GCC unroll 16
    for (int u = 0; u < U; ++u) {
        p0[u] = Mul32(m0, hn::Xor(c1[u], SetU(sc.x0)));
        // Round 3: c2 = hi(p0) ^ a3 ^ k1 is block-free too.
        q1[u] = Mul32(m1, hn::Xor(hn::ShiftRight<32>(p0[u]), SetU(sc.b2x)));
        q1hi[u] = hn::ShiftRight<32>(q1[u]);
    }
    VU c0[K * U], cc1[K * U], c2[K * U], c3[K * U];
#pragma GCC unroll 16
    for (int k = 0; k < K; ++k) {
        std::uint64_t x0, x2, x3;
        if (blocks[k] < static_cast<std::uint32_t>(StreamConst::kTable)) {
            x0 = sc.r3c0[blocks[k]], x2 = sc.r3c2[blocks[k]], x3 = sc.r3c3[blocks[k]];
        } else {
            Round3Consts(sc, blocks[k], x0, x2, x3);
        }
#pragma GCC unroll 16
        for (int u = 0; u < U; ++u) {
            c0[k * U + u] = hn::Xor(q1hi[u], SetU(x0));
            cc1[k * U + u] = q1[u];
            c2[k * U + u] = hn::Xor(p0[u], SetU(x2));
            c3[k * U + u] = SetU(x3);
        }
    }
    // Rounds 4..10.
#pragma GCC unroll 16
    for (int round = 3; round < 10; ++round) {
        const VU k0 = SetU(sc.k0r[round]), k1 = SetU(sc.k1r[round]);
#pragma GCC unroll 16
        for (int i = 0; i < K * U; ++i) {
            const VU x0v = Mul32(m0, c0[i]);
            const VU x1v = Mul32(m1, c2[i]);
            const VU n0 = hn::Xor3(hn::ShiftRight<32>(x1v), cc1[i], k0);
            const VU n2 = hn::Xor3(hn::ShiftRight<32>(x0v), c3[i], k1);
            c0[i] = n0;
            cc1[i] = x1v;
            c2[i] = n2;
            c3[i] = x0v;
        }
    }
    const VU mask = SetU(0xFFFFFFFFull);
#pragma GCC unroll 16
    for (int k = 0; k < K; ++k)
#pragma GCC unroll 16
        for (int u = 0; u < U; ++u) {
            const int i = k * U + u;
            out[k * kstride + u * ustride] = {
                {hn::And(c0[i], mask), hn::And(cc1[i], mask), hn::And(c2[i], mask), hn::And(c3[i], mask)}};
        }
}

HWY_INLINE Words4 PhiloxEntity(VU c1, const StreamConst& sc, std::uint32_t block) {
    Words4 w;
    PhiloxMulti<1, 1>(&c1, sc, &block, &w);
    return w;
}
template <int K>
HWY_INLINE void PhiloxEntityK(VU c1, const StreamConst& sc, const std::uint32_t* blocks, Words4* out) {
    PhiloxMulti<1, K>(&c1, sc, blocks, out);
}
template <int K>
HWY_INLINE void PhiloxChunksK(const VU* c1, const StreamConst& sc, std::uint32_t block, Words4* out) {
    PhiloxMulti<K, 1>(c1, sc, &block, out);
}

using artel::rng::bernoulli_threshold;


}  // namespace HWY_NAMESPACE
}  // namespace vec
}  // namespace artel
HWY_AFTER_NAMESPACE();

#endif  // include guard
