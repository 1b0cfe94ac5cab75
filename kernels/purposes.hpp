// The purposes of the model's random streams (the low byte of Philox counter
// word 2, see engine/random/streams.hpp). Each purpose is one kind of draw;
// two purposes never share draws, so switching one mechanism off never shifts
// the draws of another. Values are part of the output's meaning: never renumber.
#pragma once

#include <cstdint>

namespace artel::model {

enum class Purpose : std::uint32_t {
    // init (year slot 0)
    InitSize = 1,        // household: word 0 (Poisson by inversion)
    InitAdults = 2,      // household: words 0..size-2 (Bernoulli per non-head member)
    InitLiterate = 3,    // household: words 0..adults-1
    InitLand = 4,        // household: words 0,1 (Box–Muller)
    InitCoop = 5,        // household: word 0
    InitSkill = 6,       // household: Beta by Marsaglia–Tsang (own stream, variable length)
    InitStore = 7,       // village: word 0
    // yearly (year slot t + 1)
    Organiser = 20,       // village: word 0 (opening or closing)
    WeatherNational = 21, // national: words 0,1
    WeatherRegion = 22,   // region: words 0..3 (failure normal, multiplier normal)
    WeatherVillage = 23,  // village: words 0,1
    HouseholdYear = 24,   // household: the fixed single draws of a year, see HouseholdWord
    // 27 and 28 (coming of age and deaths, one word per person) were retired
    // with random layout 2: never reuse them.
    Demography = 29,      // household: the binomials of step 5, see DemographyWord
    // 31 (literacy, one word per illiterate adult) was retired with random
    // layout 3: never reuse it.
};

// The words of a household's HouseholdYear stream: one draw each, at fixed
// places, so every household-year needs at most three Philox blocks for them
// and a mechanism that is off simply leaves its words unread. Words read by
// (nearly) every household share blocks 0 and 1; block 2 holds the bonus
// draws and the rare famine draw.
enum HouseholdWord : std::uint32_t {
    kWeatherZ0 = 0,      // household weather E (Box–Muller pair, words 0 and 1)
    kWeatherZ1 = 1,
    kBirth = 2,
    kChildDeaths = 3,    // children who die: Binomial(children, child_death) by inversion
    kJoin = 4,
    kActivate = 5,
    kLapse = 6,          // an active member lapses, or a passive member leaves
    kLearned = 7,        // illiterate adults who learn: Binomial(illiterate, learn) by inversion
    kFamine = 8,         // who dies of famine, if anyone: one word, nested intervals (step 4)
    // word 9 is unused
    kFalseClaim = 10,
    kAudit = 11,
};

// The words of a household's Demography stream (step 5): one word per
// binomial, drawn by inversion (engine/random/binomial_table.hpp), so a
// household-year needs one Philox block for them whatever its size, and a
// second only for the rare eldest child who comes of age at once.
enum DemographyWord : std::uint32_t {
    kComeOfAge = 0,        // children who come of age: Binomial(children, age_rate)
    kSchooled = 1,         // of those, literate: Binomial(came of age, school_rate)
    kDeathsLiterate = 2,   // literate adults who die: Binomial(literate, adult_death)
    kDeathsIlliterate = 3, // illiterate adults who die: Binomial(adults − literate, adult_death)
    kEldestLiterate = 4,   // the eldest child who comes of age at once is literate
};

}  // namespace artel::model

namespace artel::model {
// Words read together come from one Philox block.
static_assert(kJoin / 4 == kActivate / 4 && kJoin / 4 == kLapse / 4 && kLearned / 4 == kJoin / 4);
static_assert(kFamine / 4 == kFalseClaim / 4);
static_assert(kFalseClaim / 4 == kAudit / 4);
static_assert(kWeatherZ0 / 4 == kWeatherZ1 / 4 && kBirth / 4 == 0 && kChildDeaths / 4 == 0);
static_assert(kComeOfAge / 4 == 0 && kSchooled / 4 == 0 && kDeathsLiterate / 4 == 0 && kDeathsIlliterate / 4 == 0);
}  // namespace artel::model
