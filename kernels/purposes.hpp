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
    Organiser = 20,      // village: word 0 (opening or closing)
    WeatherNational = 21,// national: words 0,1
    WeatherRegion = 22,  // region: words 0..3 (failure normal, multiplier normal)
    WeatherVillage = 23, // village: words 0,1
    WeatherHousehold = 24,// household: words 0,1
    Famine = 25,         // household: word 0 death, 1 adult?, 2 literate?
    Birth = 26,          // household: word 0
    ComingOfAge = 27,    // household: word 2k comes of age, 2k+1 literate (child k)
    Death = 28,          // household: word j for person slot j
    EldestComesOfAge = 29,// household: word 0 literate?
    Claim = 30,          // household: word 0 false claim, word 1 audit
    Literacy = 31,       // household: word k for illiterate adult k
    Join = 32,           // household: word 0
    Activate = 33,       // household: word 0
    Lapse = 34,          // household: word 0 (lapse of an active or leave of a passive member)
};

}  // namespace artel::model
