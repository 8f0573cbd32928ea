import SharedModels
import Synchronization

/// The embedded default's limiter: ``GCRA`` over a dictionary of TATs in this process.
package final class InMemoryRateLimiter: RateLimiter {
    private struct State {
        var tats: [String: Int64] = [:]
        var checksSinceSweep = 0
    }

    private let state = Mutex(State())
    private let origin = ContinuousClock.now
    /// Keys past this count trigger a sweep of the expired ones, so memory follows active keys.
    private let sweepThreshold: Int

    /// A limiter that sweeps expired keys once it tracks more than `sweepThreshold`.
    package init(sweepThreshold: Int = 10_000) {
        self.sweepThreshold = sweepThreshold
    }

    package func check(_ key: String, limit: RateLimit, cost: Int) async throws -> RateLimitDecision {
        let now = (ContinuousClock.now - origin).microseconds
        return state.withLock { state in
            let stored = state.tats[key].flatMap { $0 > now ? $0 : nil }
            let outcome = GCRA.evaluate(tat: stored, now: now, limit: limit, cost: cost)
            if let newTAT = outcome.newTAT {
                state.tats[key] = newTAT > now ? newTAT : nil
            }
            state.checksSinceSweep += 1
            if state.tats.count > sweepThreshold && state.checksSinceSweep >= sweepThreshold / 10 {
                state.tats = state.tats.filter { $0.value > now }
                state.checksSinceSweep = 0
            }
            return outcome.decision
        }
    }

    /// How many keys are tracked, for tests of the sweep.
    package var trackedKeys: Int { state.withLock { $0.tats.count } }
}
