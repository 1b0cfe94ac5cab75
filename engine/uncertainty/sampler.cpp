#include "engine/uncertainty/sampler.hpp"

#include <stdexcept>

#include "engine/uncertainty/unit.hpp"

namespace artel::uq {

ParameterSampler::ParameterSampler(std::vector<UncertainParameter> parameters, DesignKind kind, std::uint64_t seed,
                                   std::uint64_t replications, bool scramble)
    : parameters_(std::move(parameters)), kind_(kind) {
    if (kind == DesignKind::Table) throw std::logic_error("a table design is built from its table");
    design_ = std::make_shared<const Design>(kind, seed, parameters_.size(), replications, scramble);
}

ParameterSampler::ParameterSampler(std::vector<UncertainParameter> parameters, std::vector<double> table,
                                   std::uint64_t rows, std::string source)
    : parameters_(std::move(parameters)), kind_(DesignKind::Table), table_(std::move(table)), rows_(rows),
      source_(std::move(source)) {
    if (table_.size() != rows_ * parameters_.size()) throw std::logic_error("parameter table of the wrong size");
}

std::uint64_t ParameterSampler::stream_replication(std::uint64_t replication) const {
    if (kind_ != DesignKind::Saltelli) return replication;
    return design_->saltelli_cell(replication).point;
}

void ParameterSampler::values(std::uint64_t replication, std::span<double> out) const {
    const std::size_t d = parameters_.size();
    if (out.size() != d) throw std::logic_error("parameter vector of the wrong size");
    if (kind_ == DesignKind::Table) {
        if (replication >= rows_) throw std::out_of_range("replication beyond the parameter table");
        for (std::size_t j = 0; j < d; ++j) out[j] = table_[replication * d + j];
        return;
    }
    for (std::size_t j = 0; j < d; ++j)
        out[j] = parameters_[j].prior.quantile(clamp_unit(design_->unit(replication, j)));
}

void ParameterSampler::apply(std::uint64_t replication, void* params) const {
    thread_local std::vector<double> v;
    v.resize(parameters_.size());
    values(replication, v);
    for (std::size_t j = 0; j < v.size(); ++j) config::write_value(params, *parameters_[j].param, v[j]);
}

}  // namespace artel::uq
