// How the work of a run is divided among ranks (distributed.hpp): in both
// builds, so that the serial tests check it.
#include <algorithm>
#include <stdexcept>

#include "engine/run/distributed.hpp"

namespace artel::dist {

std::uint64_t share_bound(std::uint64_t items, int k, int ranks) {
    // items * k / ranks without overflowing
    const auto n = static_cast<std::uint64_t>(ranks), q = items / n, r = items % n;
    return q * static_cast<std::uint64_t>(k) + r * static_cast<std::uint64_t>(k) / n;
}

std::vector<run::Piece> share(const std::vector<std::uint64_t>& remaining, std::size_t units, int rank, int ranks) {
    if (ranks < 1 || rank < 0 || rank >= ranks || units == 0)
        throw std::invalid_argument("share: rank " + std::to_string(rank) + " of " + std::to_string(ranks) + ", " +
                                    std::to_string(units) + " units");
    // Contiguous shares of the items, so that a rank runs whole replications
    // but for at most one at each end of its share, which it runs part of (a
    // replication of more units than a share has is spread over several
    // ranks: one huge replication uses every rank). Equal shares of items
    // are equal work when units are (village blocks of one size).
    const std::uint64_t begin = share_bound(remaining.size() * units, rank, ranks),
                        end = share_bound(remaining.size() * units, rank + 1, ranks);
    std::vector<run::Piece> pieces;
    for (std::uint64_t k = begin; k < end;) {
        const std::uint64_t i = k / units, first = k % units;
        const std::uint64_t last = std::min<std::uint64_t>(end, (i + 1) * units);
        pieces.push_back({remaining[static_cast<std::size_t>(i)], static_cast<std::size_t>(first),
                          static_cast<std::size_t>(last - k)});
        k = last;
    }
    return pieces;
}

}  // namespace artel::dist
