// The household model of MODEL.md §3–4: initial state and one year, over a
// village block. This is the scalar reference kernel: it defines what a run
// means; faster kernels must agree with it.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/block.hpp"
#include "kernels/params.hpp"
#include "kernels/tallies.hpp"
#include "kernels/weather.hpp"

namespace artel::model {

// What the rules of one household-year move (kernels/rules.inc returns
// them in rules::Flows): grain in centners, cash and debt in roubles
// (REAL), persons and literate adults (COUNT). A rule that moves something
// new adds it here, and nowhere else but where it moves it.
#define ARTEL_HOUSEHOLD_FLOWS(REAL, COUNT)                                                                   \
    /* grain */ REAL(harvest) REAL(levy) REAL(bought) REAL(from_reserve) REAL(aid) REAL(borrowed_grain)      \
    REAL(consumed) REAL(sold) REAL(grain_lost)                                                                \
    /* cash */ REAL(wage) REAL(paid_for_grain) REAL(spent) REAL(proceeds) REAL(bonus) REAL(repaid)            \
    REAL(cash_lost)                                                                                           \
    /* debt */ REAL(borrowed) REAL(interest) REAL(written_off)                                                \
    /* persons */ COUNT(births) COUNT(deaths) COUNT(famine_deaths) COUNT(literate_gained) COUNT(literate_died)

// Every flow of one household in one year, recorded only when a FlowLog is
// given (tests check that the books balance, MODEL.md §8.4).
struct HouseholdFlows {
    // stocks at the start and end of the year
    double grain0 = 0, cash0 = 0, debt0 = 0, grain1 = 0, cash1 = 0, debt1 = 0;
    std::int32_t size0 = 0, literate0 = 0, size1 = 0, literate1 = 0;
#define ARTEL_REAL_FLOW(n) double n = 0;
#define ARTEL_COUNT_FLOW(n) std::int32_t n = 0;
    ARTEL_HOUSEHOLD_FLOWS(ARTEL_REAL_FLOW, ARTEL_COUNT_FLOW)
#undef ARTEL_REAL_FLOW
#undef ARTEL_COUNT_FLOW
    bool alive_at_start = false;
};

struct FlowLog {
    std::vector<HouseholdFlows> flows;  // one per household of the block
};

// Draws the initial households and villages of the block (MODEL.md §3) and
// computes M, A, L. Uses only "init" draws (year slot 0).
void init_block(const Params& p, BlockState& s);

// M, A and L of every village of the block from its living households
// (village::shares).
void village_aggregates(BlockState& s);

// Advances the block by year t under parameters `p` (one arm), adding the
// year's flows and end-of-year stocks to `tally` and end-of-year wealth to
// `gini`. Steps 1–11 of MODEL.md §4 in order. With `regions` (an array of
// p.regions), also each region's share of the per-region quantities
// (RegionTally) to regions[region].
void step_year(const Params& p, const Weather& w, std::int64_t t, BlockState& s, YearScratch& scratch,
               Tally& tally, GiniHistogram& gini, FlowLog* log = nullptr, RegionTally* regions = nullptr);

// Adds the block's current stocks (households, persons, membership,
// literacy, grain, cash, debt, stores, reserve) to `tally` and wealth to
// `gini`, valuing grain at `price(region)`; used for the start record. With
// `regions`, also each region's share, as step_year.
void tally_stocks(const Params& p, const BlockState& s, const double* price_by_region, Tally& tally,
                  GiniHistogram& gini, RegionTally* regions = nullptr);


// The parameters that enter household formulas, rounded to single precision
// once: every kernel computes household quantities in float from these, in
// the same order of operations, so that all give the same bits.
struct HouseholdConst {
    float food_need, seed_need, yield_mean, beta_lit, beta_coop, reserve_levy, wage, wage_landpoor;
    float land_per_mouth;  // land_mean / size_mean
    float coop_aid, credit_limit_coop, credit_limit_private;
    float default_coop, default_private;  // default_multiple · limit
    float famine_mortality;
    float spend_share, keep_buffer, sell_share, culture_loss;
    float bonus, rate_coop, rate_private, privilege;  // privilege = rate_private − rate_coop
    float skill_rate, skill_passive;
    float a0, a_lit, a_skill, act_bonus;  // act_bonus = a_bonus · bonus when the bonus is on
    static HouseholdConst of(const Params& p);
};

}  // namespace artel::model
