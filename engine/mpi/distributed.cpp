// engine/run/distributed.hpp with MPI.
//
// A rank's main thread does all of its MPI and parallel HDF5 calls
// (MPI_THREAD_FUNNELED); a second thread runs the rank's pieces with the
// ordinary OpenMP runner and hands each finished record, or the saved
// accumulator of a piece of a split replication, to the main thread through
// a queue. The main thread:
//  - sends every record to rank 0, which journals it (one journal, the
//    output's lock, as in a one-process run: records arrive in any order,
//    and the journal holds a set of replications, engine/output/
//    checkpoint.hpp), and keeps it for its own rows;
//  - sends a split replication's saved accumulator to the replication's
//    owner (the rank holding its first unit), which merges the pieces (an
//    exact merge: integer and fixed-point sums) and finishes the record;
//  - every kHeartbeat, joins an MPI_Iallreduce of its status: the work done
//    (rank 0's progress line), whether a signal or a failure stopped it,
//    the rows it holds, how many records rank 0 has journaled. Every rank
//    sees the same sums and so takes the same decisions: write a round of
//    rows (collective) when some rank holds many, stop every rank's runner
//    when one rank was signalled or failed, end when rank 0 has every record
//    (or, stopping, when every runner has returned).
// Point-to-point messages to the owner rather than a collective reduction:
// the ranks sharing a replication finish their pieces at different times,
// and a collective would make each wait for the others; the merge is the
// same exact sum either way.
// Waits poll with short sleeps instead of blocking in MPI (which spins on
// the core that the rank's own threads, or another rank's, compute on).
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "engine/mpi/parallel_rows.hpp"
#include "engine/run/distributed.hpp"

namespace artel::dist {
namespace {

struct World {
    bool initialized = false;  // by us
    MPI_Comm comm = MPI_COMM_NULL;
    int rank = 0, size = 1;
};
// The process's MPI environment: made once by Environment, read by every call.
World g_world;

// Started by a launcher: Open MPI's mpirun, PMIx (srun --mpi=pmix, mpirun),
// PMI-1/2 (srun, MPICH's hydra).
bool launched() {
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
        if (std::getenv(v)) return true;
    return false;
}

// Polls a request, sleeping a little between tries.
void wait(MPI_Request& request) {
    int done = 0;
    auto pause = std::chrono::microseconds(20);
    for (;;) {
        MPI_Test(&request, &done, MPI_STATUS_IGNORE);
        if (done) return;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(2000));
    }
}

constexpr int kTagRecord = 1;   // a finished record, to rank 0
constexpr int kTagPartial = 2;  // a piece of a split replication, to its owner

// ---- records as bytes ----------------------------------------------------------

// A field added to ReplicationRecord must be carried here too.
static_assert(sizeof(run::ReplicationRecord) == sizeof(std::uint64_t) + 7 * sizeof(std::vector<double>),
              "to_bytes and from_bytes carry every field of ReplicationRecord");

std::vector<std::byte> to_bytes(const run::ReplicationRecord& r) {
    const std::uint64_t head[2] = {r.replication, r.trajectories.empty() ? 0u : 1u};
    std::vector<std::byte> out(sizeof head + 8 * (r.series.size() + r.start.size() + r.events.size() +
                                                  r.histograms.size() + r.trajectories.size() + r.parameters.size() +
                                                  r.regions.size()));
    std::size_t at = 0;
    auto put = [&](const void* p, std::size_t n) {
        if (n) std::memcpy(out.data() + at, p, n);
        at += n;
    };
    put(head, sizeof head);
    put(r.series.data(), 8 * r.series.size());
    put(r.start.data(), 8 * r.start.size());
    put(r.events.data(), 8 * r.events.size());
    put(r.histograms.data(), 8 * r.histograms.size());
    put(r.trajectories.data(), 8 * r.trajectories.size());
    put(r.parameters.data(), 8 * r.parameters.size());
    put(r.regions.data(), 8 * r.regions.size());
    return out;
}

run::ReplicationRecord from_bytes(const std::vector<std::byte>& in, const run::ResultSchema& schema) {
    std::uint64_t head[2];
    if (in.size() < sizeof head) throw std::runtime_error("a record message is too short");
    std::memcpy(head, in.data(), sizeof head);
    run::ReplicationRecord r;
    r.shape(schema, head[1] != 0);
    r.replication = head[0];
    std::size_t at = sizeof head;
    auto get = [&](auto& v) {
        const std::size_t n = v.size() * sizeof(v[0]);
        if (at + n > in.size()) throw std::runtime_error("a record message is too short");
        std::memcpy(v.data(), in.data() + at, n);
        at += n;
    };
    get(r.series), get(r.start), get(r.events), get(r.histograms), get(r.trajectories), get(r.parameters), get(r.regions);
    if (at != in.size()) throw std::runtime_error("a record message is too long");
    return r;
}

// ---- the runner's side -----------------------------------------------------------

struct Item {
    bool partial = false;
    run::ReplicationRecord record;
    std::uint64_t replication = 0;
    std::vector<std::byte> saved;
};

// What the runner's threads hand to the main thread.
class QueueSink final : public run::RecordSink {
public:
    void consume(const run::ReplicationRecord& r) override {
        Item item;
        item.record = r;
        item.replication = r.replication;
        push(std::move(item));
    }
    void consume_partial(std::uint64_t rep, const run::Accumulator& acc) override {
        Item item;
        item.partial = true;
        item.replication = rep;
        acc.save(item.saved);
        push(std::move(item));
    }
    std::deque<Item> take() {
        std::lock_guard lock(m_);
        return std::exchange(items_, {});
    }

private:
    void push(Item&& item) {
        std::lock_guard lock(m_);
        items_.push_back(std::move(item));
    }
    std::mutex m_;
    std::deque<Item> items_;
};

// ---- who does what ----------------------------------------------------------------

// The division of the items (share()) seen from one replication: the ranks
// holding its units, and its owner (the first of them).
class Division {
public:
    Division(const std::vector<std::uint64_t>& remaining, std::size_t units, int ranks)
        : remaining_(remaining), units_(units), bounds_(static_cast<std::size_t>(ranks) + 1) {
        for (int k = 0; k <= ranks; ++k)
            bounds_[static_cast<std::size_t>(k)] = share_bound(remaining.size() * units, k, ranks);
    }
    // The rank holding item k.
    int holder(std::uint64_t k) const {
        return static_cast<int>(std::upper_bound(bounds_.begin(), bounds_.end(), k) - bounds_.begin()) - 1;
    }
    std::size_t index(std::uint64_t replication) const {
        const auto it = std::lower_bound(remaining_.begin(), remaining_.end(), replication);
        if (it == remaining_.end() || *it != replication)
            throw std::runtime_error("replication " + std::to_string(replication) + " is not part of this run");
        return static_cast<std::size_t>(it - remaining_.begin());
    }
    int owner(std::uint64_t replication) const { return holder(index(replication) * units_); }
    // Ranks whose share holds some of the replication's units.
    int pieces(std::uint64_t replication) const {
        const auto i = index(replication);
        return holder((i + 1) * units_ - 1) - holder(i * units_) + 1;
    }

private:
    const std::vector<std::uint64_t>& remaining_;
    std::size_t units_;
    std::vector<std::uint64_t> bounds_;
};

// What every rank says of itself at a heartbeat.
struct Status {
    // summed
    double work = 0;
    double runner_done = 0;  // its runner returned and the main thread took all it made
    double journaled = 0;    // rank 0: records journaled
    // minimum over ranks
    std::int64_t failed_rank = 0;  // this rank if it failed, else the number of ranks
    std::int64_t minus_rows = 0;   // -(bytes of rows held for the next round)
    std::int64_t minus_signal = 0; // -(the signal that stopped it)
};

constexpr auto kHeartbeat = std::chrono::milliseconds(50);
constexpr double kRoundBytes = 32.0 * (1 << 20);  // rows held by a rank before a round of writes

std::string what_of(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "unknown failure";
    }
}

double record_bytes(const run::ReplicationRecord& r) {
    return 8.0 * double(r.series.size() + r.start.size() + r.events.size() + r.histograms.size() +
                        r.trajectories.size() + r.parameters.size() + r.regions.size());
}

// One rank's part of a run.
class RankRun {
public:
    RankRun(const run::Simulation& sim, const RunOptions& opt)
        : sim_(sim), opt_(opt), me_(g_world.rank), n_(g_world.size), comm_(g_world.comm),
          division_(opt.remaining, sim.units_per_replication(), g_world.size),
          sent_to_(static_cast<std::size_t>(g_world.size), 0), received_from_(sent_to_.size(), 0) {}

    RunSummary run() {
        const auto t0 = std::chrono::steady_clock::now();
        std::unique_ptr<ParallelRows> rows;
        try {
            rows = std::make_unique<ParallelRows>(opt_.partial, sim_.schema(), comm_);
        } catch (const std::exception& e) {
            abort_job(e.what(), 1);
        }
        write_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const auto pieces = share(opt_.remaining, sim_.units_per_replication(), me_, n_);
        run::Progress counted(0, "", run::ProgressMode::Quiet);
        std::atomic<bool> finished{false};
        std::exception_ptr runner_error;
        std::thread runner([&] {
            try {
                run::RunOptions ro;
                ro.threads = opt_.threads;
                ro.pieces = pieces;
                ro.progress = &counted;
                ro.stop = &stop_runner_;
                if (!pieces.empty()) run::run_replications(sim_, ro, queue_);
            } catch (...) {
                runner_error = std::current_exception();
            }
            finished = true;
        });

        bool runner_done = false, stopping = false;
        auto next_beat = std::chrono::steady_clock::now();
        auto last_sync = next_beat;
        Status mine, sum, min;
        MPI_Request beat[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
        double sums[3], mins[3];
        std::int64_t local_min[3], global_min[3];
        RunSummary summary;
        for (;;) {
            bool busy = false;
            try {
                if (!runner_done && finished.load()) {
                    runner_done = true;  // after this, take() gets everything it made
                    if (runner_error) fail(what_of(runner_error));
                }
                for (auto& item : queue_.take()) {
                    busy = true;
                    if (item.partial) partial(item.replication, std::move(item.saved), me_, stopping);
                    else finished_record(std::move(item.record));
                }
                busy |= receive(stopping);
                reap();
                if (me_ == 0 && unsynced_ && std::chrono::steady_clock::now() - last_sync > std::chrono::seconds(1)) {
                    sync_root();
                    last_sync = std::chrono::steady_clock::now();
                }
            } catch (...) {
                fail(what_of(std::current_exception()));
            }
            // The heartbeat.
            if (beat[0] == MPI_REQUEST_NULL && std::chrono::steady_clock::now() >= next_beat) {
                next_beat += kHeartbeat;
                sums[0] = counted.done(), sums[1] = runner_done ? 1 : 0, sums[2] = double(journaled_);
                local_min[0] = failure_ ? me_ : n_;
                local_min[1] = -static_cast<std::int64_t>(held_bytes_);
                local_min[2] = -static_cast<std::int64_t>(opt_.signal ? opt_.signal->load() : 0);
                if (!(opt_.stop && opt_.stop->load())) local_min[2] = 0;
                MPI_Iallreduce(sums, mins, 3, MPI_DOUBLE, MPI_SUM, comm_, &beat[0]);
                MPI_Iallreduce(local_min, global_min, 3, MPI_INT64_T, MPI_MIN, comm_, &beat[1]);
            }
            if (beat[0] != MPI_REQUEST_NULL) {
                int done = 0;
                MPI_Testall(2, beat, &done, MPI_STATUSES_IGNORE);
                if (done) {
                    sum.work = mins[0], sum.runner_done = mins[1], sum.journaled = mins[2];
                    min.failed_rank = global_min[0], min.minus_rows = global_min[1], min.minus_signal = global_min[2];
                    if (me_ == 0 && opt_.progress) {
                        opt_.progress->set_done(sum.work);
                        opt_.progress->report();
                    }
                    if (min.failed_rank < n_ || min.minus_signal < 0) {
                        stopping = true;
                        stop_runner_ = true;
                    }
                    if (!stopping && double(-min.minus_rows) >= kRoundBytes) {
                        // Every rank saw the same: a round of writes, now.
                        if (me_ == 0) sync_root();
                        write_rows(*rows);
                    }
                    if (!stopping && sum.journaled == double(opt_.remaining.size())) break;
                    if (stopping && sum.runner_done == double(n_)) break;
                }
            }
            if (!busy) std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
        runner.join();
        drain();
        if (me_ == 0) {
            try {
                sync_root();
            } catch (...) {
                fail(what_of(std::current_exception()));
            }
        }
        // The failure of the lowest failing rank, on every rank (one may have
        // failed after the last heartbeat).
        std::optional<Failure> mine_failure;
        if (failure_) mine_failure = Failure{me_, 1, *failure_};
        summary.failure = agree(mine_failure);
        summary.stopped = stopping || summary.failure.has_value();
        summary.signal = static_cast<int>(-min.minus_signal);
        summary.records = journaled_;
        summary.work = sum.work;
        if (!summary.stopped) write_rows(*rows);  // the last round
        {
            double mine_bytes[3] = {record_bytes_, piece_bytes_, double(pieces_sent_)}, all[3];
            MPI_Request r;
            MPI_Iallreduce(mine_bytes, all, 3, MPI_DOUBLE, MPI_SUM, comm_, &r);
            wait(r);
            summary.record_bytes = all[0], summary.piece_bytes = all[1];
            summary.pieces_sent = static_cast<std::uint64_t>(all[2]);
            summary.rounds = rounds_;
            summary.writes = rows->writes();
        }
        const auto t_close = std::chrono::steady_clock::now();
        try {
            rows->close();
        } catch (const std::exception& e) {
            abort_job(e.what(), 1);
        }
        summary.write_seconds =
            write_seconds_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - t_close).count();
        summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return summary;
    }

private:
    void fail(const std::string& message) {
        if (!failure_) failure_ = message;
        stop_runner_ = true;
    }

    // A record this rank made (by its runner or by merging pieces).
    void finished_record(run::ReplicationRecord&& record) {
        if (me_ == 0) {
            to_root(record);
        } else {
            auto bytes = to_bytes(record);
            record_bytes_ += double(bytes.size());
            send(0, kTagRecord, std::move(bytes));
        }
        held_bytes_ += record_bytes(record);
        held_.push_back(std::move(record));
    }

    void to_root(const run::ReplicationRecord& record) {
        if (failure_ && me_ == 0) return;  // the journal failed: nothing more goes in
        opt_.sink->record(record);
        ++journaled_;
        unsynced_ = true;
    }

    void sync_root() {
        if (unsynced_ && !(failure_ && me_ == 0)) opt_.sink->sync();
        unsynced_ = false;
    }

    // A piece of a split replication, made here or received from `from`.
    void partial(std::uint64_t rep, std::vector<std::byte>&& saved, int from, bool stopping) {
        if (stopping) return;  // a stopped run journals whole records only
        const int owner = division_.owner(rep);
        if (owner != me_) {
            std::vector<std::byte> message(8);
            std::memcpy(message.data(), &rep, 8);
            message.insert(message.end(), saved.begin(), saved.end());
            piece_bytes_ += double(message.size());
            ++pieces_sent_;
            send(owner, kTagPartial, std::move(message));
            return;
        }
        (void)from;
        auto& m = merges_[rep];
        if (!m.acc) m.acc = sim_.make_accumulator();
        m.acc->merge_saved(saved);
        if (++m.got < division_.pieces(rep)) return;
        run::ReplicationRecord record;
        sim_.finish_replication(rep, *m.acc, record);
        merges_.erase(rep);
        finished_record(std::move(record));
    }

    void send(int to, int tag, std::vector<std::byte>&& bytes) {
        outbox_.emplace_back();
        auto& o = outbox_.back();
        o.bytes = std::move(bytes);
        MPI_Isend(o.bytes.data(), static_cast<int>(o.bytes.size()), MPI_BYTE, to, tag, comm_, &o.request);
        ++sent_to_[static_cast<std::size_t>(to)];
    }

    // Frees the buffers of sends that completed.
    void reap() {
        for (auto it = outbox_.begin(); it != outbox_.end();) {
            int done = 0;
            MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
            it = done ? outbox_.erase(it) : std::next(it);
        }
    }

    // Takes one message if one has come; whether it did.
    bool receive(bool stopping) {
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, &st);
        if (!flag) return false;
        take(st, stopping);
        return true;
    }

    void take(const MPI_Status& st, bool stopping) {
        int count = 0;
        MPI_Get_count(&st, MPI_BYTE, &count);
        std::vector<std::byte> bytes(static_cast<std::size_t>(count));
        MPI_Recv(bytes.data(), count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, comm_, MPI_STATUS_IGNORE);
        ++received_from_[static_cast<std::size_t>(st.MPI_SOURCE)];
        if (st.MPI_TAG == kTagRecord) {
            to_root(from_bytes(bytes, sim_.schema()));
        } else {
            std::uint64_t rep = 0;
            if (bytes.size() < 8) throw std::runtime_error("a piece message is too short");
            std::memcpy(&rep, bytes.data(), 8);
            partial(rep, std::vector<std::byte>(bytes.begin() + 8, bytes.end()), st.MPI_SOURCE, stopping);
        }
    }

    // Every message sent is received before the ranks go on: each rank
    // learns how many were sent to it (MPI_Alltoall of the counts) and takes
    // the rest. No message is made after the counts are exchanged: pieces
    // that arrive now are dropped (the run stopped) or there are none.
    void drain() {
        for (auto& item : queue_.take()) {
            try {
                if (!item.partial) finished_record(std::move(item.record));
            } catch (...) {
                fail(what_of(std::current_exception()));
            }
        }
        std::vector<std::uint64_t> expected(sent_to_.size());
        MPI_Request r;
        MPI_Ialltoall(sent_to_.data(), 1, MPI_UINT64_T, expected.data(), 1, MPI_UINT64_T, comm_, &r);
        wait(r);
        for (std::size_t src = 0; src < expected.size(); ++src) {
            while (received_from_[src] < expected[src]) {
                int flag = 0;
                MPI_Status st;
                MPI_Iprobe(static_cast<int>(src), MPI_ANY_TAG, comm_, &flag, &st);
                if (!flag) {
                    std::this_thread::sleep_for(std::chrono::microseconds(200));
                    continue;
                }
                try {
                    take(st, true);
                } catch (...) {
                    fail(what_of(std::current_exception()));
                }
            }
        }
        for (auto& o : outbox_) wait(o.request);
        outbox_.clear();
    }

    void write_rows(ParallelRows& rows) {
        ++rounds_;
        const auto t0 = std::chrono::steady_clock::now();
        try {
            rows.write(held_);
        } catch (const std::exception& e) {
            abort_job(e.what(), 1);
        }
        held_bytes_ = 0;
        write_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }

    struct Outgoing {
        std::vector<std::byte> bytes;
        MPI_Request request = MPI_REQUEST_NULL;
    };
    struct Merge {
        std::unique_ptr<run::Accumulator> acc;
        int got = 0;
    };

    const run::Simulation& sim_;
    const RunOptions& opt_;
    const int me_, n_;
    MPI_Comm comm_;
    Division division_;
    QueueSink queue_;
    std::atomic<bool> stop_runner_{false};
    std::optional<std::string> failure_;
    std::deque<Outgoing> outbox_;
    std::vector<std::uint64_t> sent_to_, received_from_;
    std::map<std::uint64_t, Merge> merges_;
    std::vector<run::ReplicationRecord> held_;  // this rank's records, for the next round of rows
    double held_bytes_ = 0;
    double record_bytes_ = 0, piece_bytes_ = 0;  // sent
    std::uint64_t pieces_sent_ = 0, rounds_ = 0;
    double write_seconds_ = 0;
    std::uint64_t journaled_ = 0;  // rank 0
    bool unsynced_ = false;        // rank 0: records journaled since the last sync
};

}  // namespace

Environment::Environment(int& argc, char**& argv) {
    if (!launched()) return;
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    g_world.initialized = true;
    MPI_Comm_dup(MPI_COMM_WORLD, &g_world.comm);
    MPI_Comm_rank(g_world.comm, &g_world.rank);
    MPI_Comm_size(g_world.comm, &g_world.size);
}

Environment::~Environment() {
    if (!g_world.initialized) return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) {
        MPI_Comm_free(&g_world.comm);
        MPI_Finalize();
    }
}

int rank() { return g_world.rank; }
int size() { return g_world.size; }

std::optional<Failure> agree(const std::optional<Failure>& mine) {
    if (g_world.size == 1) return mine;
    int me = mine ? g_world.rank : g_world.size, lowest = 0;
    MPI_Request r;
    MPI_Iallreduce(&me, &lowest, 1, MPI_INT, MPI_MIN, g_world.comm, &r);
    wait(r);
    if (lowest == g_world.size) return std::nullopt;
    Failure f;
    if (lowest == g_world.rank) f = *mine;
    int head[2] = {f.code, static_cast<int>(f.message.size())};
    MPI_Ibcast(head, 2, MPI_INT, lowest, g_world.comm, &r);
    wait(r);
    f.rank = lowest, f.code = head[0];
    f.message.resize(static_cast<std::size_t>(head[1]));
    MPI_Ibcast(f.message.data(), head[1], MPI_CHAR, lowest, g_world.comm, &r);
    wait(r);
    return f;
}

void broadcast(std::vector<std::uint64_t>& values) {
    if (g_world.size == 1) return;
    std::uint64_t n = values.size();
    MPI_Request r;
    MPI_Ibcast(&n, 1, MPI_UINT64_T, 0, g_world.comm, &r);
    wait(r);
    values.resize(static_cast<std::size_t>(n));
    // in parts: a count is an int
    for (std::uint64_t at = 0; at < n; at += 1u << 28) {
        const auto part = static_cast<int>(std::min<std::uint64_t>(n - at, 1u << 28));
        MPI_Ibcast(values.data() + at, part, MPI_UINT64_T, 0, g_world.comm, &r);
        wait(r);
    }
}

void abort_job(const std::string& message, int code) {
    std::fprintf(stderr, "artel: error: rank %d of %d: %s\nartel: the job is ended on every rank\n", g_world.rank,
                 g_world.size, message.c_str());
    std::fflush(stderr);
    if (g_world.initialized) MPI_Abort(g_world.comm, code);
    std::_Exit(code);
}

RunSummary run(const run::Simulation& sim, const RunOptions& options) {
    if (g_world.rank == 0 && !options.sink) throw std::logic_error("dist::run: rank 0 needs a sink");
    return RankRun(sim, options).run();
}

}  // namespace artel::dist
