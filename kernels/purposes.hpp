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
    Demography = 29,      // household: step 5's binomials and famine deaths, see DemographyWord
    // 31 (literacy, one word per illiterate adult) was retired with random
    // layout 3: never reuse it.
};

// The words of a household's HouseholdYear stream: one draw each, at fixed
// places, two Philox blocks, every one of the eight words read by (nearly)
// every household, and a mechanism that is off simply leaves its words
// unread. A word read for one purpose by some households and for another by
// the others (4, 6) is never read twice by one household in one year.
enum HouseholdWord : std::uint32_t {
    kWeatherZ0 = 0,      // household weather E (fmath::normal_z0 of words 0 and 1)
    kWeatherZ1 = 1,
    kBirth = 2,
    kChildDeaths = 3,    // children who die: Binomial(children, child_death) by inversion
    kJoin = 4,           // a non-member joins (step 10) ...
    kClaim = 4,          // ... or a member claims the bonus and is audited (step 7; members never join)
    kActivate = 5,
    kLapse = 6,          // an active member lapses, or a passive member leaves
    kLearned = 7,        // illiterate adults who learn: Binomial(illiterate, learn) by inversion
};

// The words of a household's Demography stream (births and deaths): one word
// per binomial of step 5, drawn by inversion (engine/random/binomial_table.hpp),
// so a household-year needs one Philox block for them whatever its size, and
// a second only for the rare eldest child who comes of age at once or the
// rare famine death.
enum DemographyWord : std::uint32_t {
    kComeOfAge = 0,        // children who come of age: Binomial(children, age_rate)
    kSchooled = 1,         // of those, literate: Binomial(came of age, school_rate)
    kDeathsLiterate = 2,   // literate adults who die: Binomial(literate, adult_death)
    kDeathsIlliterate = 3, // illiterate adults who die: Binomial(adults − literate, adult_death)
    kEldestLiterate = 4,   // the eldest child who comes of age at once is literate
    kFamine = 5,           // who dies of famine, if anyone (step 4; one word, nested intervals)
};

}  // namespace artel::model

namespace artel::model {
// Words read together come from one Philox block.
static_assert(kJoin / 4 == kActivate / 4 && kJoin / 4 == kLapse / 4 && kLearned / 4 == kJoin / 4);
static_assert(kFamine / 4 == kEldestLiterate / 4);
static_assert(kWeatherZ0 / 4 == kWeatherZ1 / 4 && kBirth / 4 == 0 && kChildDeaths / 4 == 0);
static_assert(kComeOfAge / 4 == 0 && kSchooled / 4 == 0 && kDeathsLiterate / 4 == 0 && kDeathsIlliterate / 4 == 0);
}  // namespace artel::model
