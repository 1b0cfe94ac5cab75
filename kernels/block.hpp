// Household state of one village block, as structure of arrays: villages
// [first_village, first_village + villages) of one replication, each with H
// households stored contiguously (household h of local village v is element
// v·H + h). Allocated once per worker and reused (first touch is slow here).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/random/binomial_search.hpp"
#include "engine/random/binomial_table.hpp"
#include "engine/random/philox.hpp"
#include "kernels/params.hpp"

namespace artel::model {

struct HouseholdArrays {
    std::vector<std::int32_t> size, adults, literate, coop, hunger;
    // single precision (docs/model.md, "The household state is single
    // precision"): 8 households per AVX2 vector
    std::vector<float> land, grain, cash, debt, skill;

    void resize(std::size_t n);
    void copy_from(const HouseholdArrays& o);  // same size, no reallocation
};

struct VillageArrays {
    std::vector<std::int32_t> store;
    std::vector<double> reserve;
    std::vector<double> M, A, L;  // last year's member share, active share, literacy

    void resize(std::size_t n);
    void copy_from(const VillageArrays& o);
};

struct BlockState {
    std::uint32_t replication = 0;
    std::int64_t first_village = 0;  // global index of local village 0
    std::int64_t villages = 0;
    std::int64_t households = 0;     // per village (H)
    HouseholdArrays hh;
    VillageArrays vil;

    std::size_t n_households() const { return static_cast<std::size_t>(villages * households); }
    // Global household index within the replication (the random-stream entity).
    std::uint32_t household_id(std::size_t i) const {
        return static_cast<std::uint32_t>(first_village * households) + static_cast<std::uint32_t>(i);
    }
    std::uint32_t village_id(std::int64_t v) const { return static_cast<std::uint32_t>(first_village + v); }

    void shape(std::uint32_t rep, std::int64_t first, std::int64_t nv, std::int64_t H);
    void copy_from(const BlockState& o);
};

// Per-household scratch for one year, reused across years and arms.
struct YearScratch {
    std::vector<std::int32_t> coop_start;  // status at the start of the year
    std::vector<float> need;               // step 4's need, reused in step 6
    std::vector<float> shortfall;          // remaining shortfall within step 4
    std::vector<rng::Block> hy0;           // HouseholdYear block 0, drawn by the reference kernel's first pass (sized by it)
    // Step 5's binomials (rebuilt only when the arm's probabilities change).
    struct Demography {
        rng::BinomialTable age, school, adult_death, child_death;
        void set(const Params& p) {
            age.set(p.age_rate);
            school.set(p.school_rate);
            adult_death.set(p.adult_death);
            child_death.set(p.child_death);
        }
    } demography;
    // Step 9's binomials of the village at hand (set per village).
    rng::BinomialSearch learn_other, learn_active;
    void resize(std::size_t n);
};

}  // namespace artel::model
