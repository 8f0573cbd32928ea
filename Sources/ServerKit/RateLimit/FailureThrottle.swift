package import Logging
import SharedModels
import Synchronization

/// Failures per client address — bad credentials at the gateway, wrong service secrets at the
/// auth service — counted in a ``RateLimiter`` under `limit`. Charged only on failure; an address
/// found over budget is remembered here until it may try again, so the check before the costly
/// work (a call to the auth service, a digest) costs no round trip to the limiter's store.
package final class FailureThrottle: Sendable {
    private let limiter: any RateLimiter
    private let limit: RateLimit?
    private let keyPrefix: String
    private let warning: Logger.Message
    private let logger: Logger
    private let blocked = Mutex<[String: ContinuousClock.Instant]>([:])
    /// Addresses remembered at most; a flood of fresh ones forgets the others.
    private static let maxBlocked = 100_000

    /// Counts under `keyPrefix` + address; `nil` `limit` counts nothing. The first time an
    /// address goes over budget, `warning` is logged with it.
    package init(
        limiter: any RateLimiter, limit: RateLimit?, keyPrefix: String, warning: Logger.Message, logger: Logger
    ) {
        self.limiter = limiter
        self.limit = limit
        self.keyPrefix = keyPrefix
        self.warning = warning
        self.logger = logger
    }

    /// Whole seconds until `address` may try again, or `nil` when it may now.
    package func retryAfter(_ address: String?) -> Int? {
        let now = ContinuousClock.now
        guard let until = blocked.withLock({ $0[address ?? ""] }), until > now else { return nil }
        return max(1, (until - now).wholeSecondsRoundedUp)
    }

    /// Charges one failure to `address`; one over budget is refused until it is under again. A
    /// limiter that cannot be reached charges nothing: failing closed here would let anyone who
    /// sends bad credentials lock out everyone behind the same address.
    package func charge(_ address: String?) async {
        guard let limit else { return }
        let address = address ?? ""
        guard let decision = try? await limiter.check(keyPrefix + address, limit: limit, cost: 1) else { return }
        // The budget is the failures allowed: the last one spent closes the door, until the
        // bucket would take one more.
        let wait: Duration
        if !decision.allowed {
            wait = decision.retryAfter
        } else if decision.remaining == 0 {
            wait = limit.period / limit.limit
        } else {
            return
        }
        let now = ContinuousClock.now
        let first = blocked.withLock { blocked -> Bool in
            let first = blocked[address].map { $0 < now } ?? true
            blocked.set(now + wait, for: address, capacity: Self.maxBlocked) { $0 <= now }
            return first
        }
        if first {
            logger.warning(
                warning, metadata: ["client_ip": "\(address)", "retry_after_s": "\(wait.wholeSecondsRoundedUp)"])
        }
    }
}
