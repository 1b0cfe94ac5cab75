#include "kernels/block.hpp"

#include <algorithm>

namespace artel::model {

void HouseholdArrays::resize(std::size_t n) {
    for (auto* v : {&size, &adults, &literate, &coop, &hunger}) v->resize(n);
    for (auto* v : {&land, &grain, &cash, &debt, &skill}) v->resize(n);
}

void HouseholdArrays::copy_from(const HouseholdArrays& o) {
    size = o.size, adults = o.adults, literate = o.literate, coop = o.coop, hunger = o.hunger;
    land = o.land, grain = o.grain, cash = o.cash, debt = o.debt, skill = o.skill;
}

void VillageArrays::resize(std::size_t n) {
    store.resize(n);
    for (auto* v : {&reserve, &M, &A, &L}) v->resize(n);
}

void VillageArrays::copy_from(const VillageArrays& o) {
    store = o.store, reserve = o.reserve, M = o.M, A = o.A, L = o.L;
}

void BlockState::shape(std::uint32_t rep, std::int64_t first, std::int64_t nv, std::int64_t H) {
    replication = rep;
    first_village = first;
    villages = nv;
    households = H;
    hh.resize(n_households());
    vil.resize(static_cast<std::size_t>(nv));
}

void BlockState::copy_from(const BlockState& o) {
    replication = o.replication;
    first_village = o.first_village;
    villages = o.villages;
    households = o.households;
    hh.copy_from(o.hh);
    vil.copy_from(o.vil);
}

void YearScratch::resize(std::size_t n) {
    coop_start.resize(n);
    need.resize(n);
    shortfall.resize(n);
}

}  // namespace artel::model
