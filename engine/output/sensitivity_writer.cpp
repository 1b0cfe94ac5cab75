#include "engine/output/sensitivity_writer.hpp"

#include <limits>
#include <string>
#include <vector>

#include "engine/uncertainty/design.hpp"
#include "engine/uncertainty/sensitivity.hpp"

namespace artel::output {
namespace {

using h5::hsize_t;

constexpr std::size_t kBootstrap = 1000;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Output {
    std::string name;
    std::vector<double> y;
};

// output x parameter x (value, lo, hi), row-major.
void put(std::vector<double>& cube, std::size_t o, std::size_t d, const std::vector<uq::Estimate>& est) {
    for (std::size_t j = 0; j < d; ++j) {
        cube[(o * d + j) * 3 + 0] = est[j].value;
        cube[(o * d + j) * 3 + 1] = est[j].lo;
        cube[(o * d + j) * 3 + 2] = est[j].hi;
    }
}

}  // namespace

void write_sensitivity(h5::Group& root, const run::ResultSchema& s, std::uint64_t seed) {
    if (s.parameters.empty()) return;
    const auto R = static_cast<std::size_t>(s.replications);
    const std::size_t d = s.parameters.size();
    const bool sobol = s.design == "saltelli";

    // X: replications x parameters, as the run used them.
    std::vector<double> X(R * d), column;
    std::vector<std::string> names;
    for (std::size_t j = 0; j < d; ++j) {
        root.open_dataset("uncertainty/" + s.parameters[j].name).read_into(column);
        for (std::size_t r = 0; r < R; ++r) X[r * d + j] = column[r];
        names.push_back(s.parameters[j].name);
    }
    std::vector<std::vector<double>> baseline(s.events.size());
    for (std::size_t e = 0; e < s.events.size(); ++e)
        root.open_dataset("arms/" + s.arms.front() + "/events/" + s.events[e].name).read_into(baseline[e]);

    for (std::size_t a = 0; a < s.n_arms(); ++a) {
        // Every arm has the same outputs, so that the arms' groups line up
        // (the baseline's differences to itself are NaN, with a note).
        std::vector<Output> outputs;
        for (std::size_t e = 0; e < s.events.size(); ++e) {
            Output o{s.events[e].name, {}};
            root.open_dataset("arms/" + s.arms[a] + "/events/" + s.events[e].name).read_into(o.y);
            Output diff{"diff_" + s.events[e].name, o.y};
            for (std::size_t r = 0; r < R; ++r) diff.y[r] -= baseline[e][r];
            outputs.push_back(std::move(o));
            outputs.push_back(std::move(diff));
        }
        const std::size_t O = outputs.size();
        std::vector<double> first(O * d * 3), second(O * d * 3);
        std::vector<std::int64_t> used(O);
        std::vector<std::string> notes(O);
        for (std::size_t o = 0; o < O; ++o) {
            if (a == 0 && outputs[o].name.rfind("diff_", 0) == 0) {
                const std::vector<uq::Estimate> none(d, uq::Estimate{kNaN, kNaN, kNaN});
                put(first, o, d, none);
                put(second, o, d, none);
                notes[o] = "the baseline's paired difference to itself is 0";
                continue;
            }
            if (sobol) {
                // Each output its own bootstrap stream: the seed's, shifted by
                // the output's place, so that outputs do not share resamples.
                const auto idx = uq::sobol_indices(outputs[o].y, d, seed + 0x9e3779b97f4a7c15ull * (a * O + o + 1),
                                                   kBootstrap);
                put(first, o, d, idx.first);
                put(second, o, d, idx.total);
                used[o] = static_cast<std::int64_t>(idx.used);
                notes[o] = idx.note;
            } else {
                const auto rc = uq::rank_correlations(X, d, outputs[o].y);
                put(first, o, d, rc.spearman);
                put(second, o, d, rc.prcc);
                used[o] = static_cast<std::int64_t>(rc.used);
                notes[o] = rc.note;
            }
        }

        auto g = root.open_group("arms/" + s.arms[a]).create_group("sensitivity");
        g.set_attr("method", std::string(sobol ? "Sobol indices: first order (Saltelli 2010), total (Jansen 1999), "
                                                 "95% percentile bootstrap over base points"
                                               : "Spearman and partial rank correlation (PRCC), 95% Fisher-z intervals"));
        g.set_attr("design", s.design);
        g.set_attr("description",
                   std::string("which uncertain parameters drive each output: the events, and (diff_*) each event's "
                               "paired difference to the baseline arm '") +
                       s.arms.front() + "'");
        std::vector<std::string> output_names;
        for (const auto& o : outputs) output_names.push_back(o.name);
        auto out_scale = g.write_strings("output", output_names);
        out_scale.make_dimension_scale();
        auto par_scale = g.write_strings("parameter", names);
        par_scale.make_dimension_scale();
        auto est_scale = g.write_strings("estimate", {"value", "lo", "hi"});
        est_scale.make_dimension_scale();
        const std::vector<hsize_t> dims{O, d, 3};
        auto d1 = g.write_dataset<double>(sobol ? "first_order" : "spearman", first, dims);
        auto d2 = g.write_dataset<double>(sobol ? "total_order" : "prcc", second, dims);
        d1.set_attr("long_name", std::string(sobol ? "first-order Sobol index S_i" : "Spearman rank correlation"));
        d2.set_attr("long_name",
                    std::string(sobol ? "total Sobol index S_Ti" : "partial rank correlation coefficient (PRCC)"));
        for (auto* ds : {&d1, &d2}) {
            ds->set_attr("units", std::string("1"));
            ds->attach_scale(out_scale, 0);
            ds->attach_scale(par_scale, 1);
            ds->attach_scale(est_scale, 2);
        }
        auto du = g.write_dataset<std::int64_t>("used", used, {O});
        du.set_attr("long_name", std::string(sobol ? "base points whose outputs are all finite"
                                                   : "replications with a finite output"));
        du.attach_scale(out_scale, 0);
        auto dn = g.write_strings("note", notes);
        dn.set_attr("long_name", std::string("why an output's estimates are NaN (empty: they are not)"));
        dn.attach_scale(out_scale, 0);
    }
}

}  // namespace artel::output
