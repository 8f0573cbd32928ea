import SharedModels

/// A limit of `limit` requests per `period`, any of which may arrive at once (a burst of `limit`).
package struct RateLimit: Sendable, Hashable, CustomStringConvertible {
    /// Requests allowed per period, and the largest burst.
    package var limit: Int
    /// The window the limit applies to.
    package var period: Duration

    /// A limit; `limit` must be positive and `period` at least a millisecond.
    package init(_ limit: Int, per period: Duration) {
        self.limit = max(1, limit)
        self.period = max(period, .milliseconds(1))
    }

    /// Parses `N/period`, the period being a number and a unit (`ms`, `s`, `m`, `h`): `600/1m`,
    /// `10/5m`, `5/1s`. A bare unit means one of it (`100/s`).
    package init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let limit = Int(parts[0].trimmingSpaces), limit > 0 else { return nil }
        var period = parts[1].trimmingSpaces
        let units: [(String, Duration)] = [
            ("ms", .milliseconds(1)), ("s", .seconds(1)), ("m", .seconds(60)), ("h", .seconds(3600)),
        ]
        guard let (suffix, unit) = units.first(where: { period.hasSuffix($0.0) }) else { return nil }
        period.removeLast(suffix.count)
        let count = period.isEmpty ? 1 : Int(period)
        guard let count, count > 0, count <= 1_000_000 else { return nil }
        self.init(limit, per: unit * count)
    }

    package var description: String {
        let milliseconds = period.milliseconds
        let (count, unit): (Int64, String) =
            milliseconds % 3_600_000 == 0
            ? (milliseconds / 3_600_000, "h")
            : milliseconds % 60_000 == 0
                ? (milliseconds / 60_000, "m")
                : milliseconds % 1000 == 0 ? (milliseconds / 1000, "s") : (milliseconds, "ms")
        return "\(limit)/\(count)\(unit)"
    }
}

/// The outcome of one check, with what the `RateLimit-*` headers report.
package struct RateLimitDecision: Sendable, Equatable {
    /// Whether the request may go ahead.
    package var allowed: Bool
    /// The limit it was judged against.
    package var limit: Int
    /// Requests that could still be made right now.
    package var remaining: Int
    /// When refused, how long until one request would be allowed; zero when allowed.
    package var retryAfter: Duration
    /// How long until the full burst is available again.
    package var resetAfter: Duration

    /// A decision as the limiter computed it.
    package init(allowed: Bool, limit: Int, remaining: Int, retryAfter: Duration, resetAfter: Duration) {
        self.allowed = allowed
        self.limit = limit
        self.remaining = remaining
        self.retryAfter = retryAfter
        self.resetAfter = resetAfter
    }
}

/// Counts requests against limits: in Redis when several gateways share the counts, in memory
/// when one process serves everything. Both run ``GCRA``.
package protocol RateLimiter: Sendable {
    /// Charges `cost` requests to `key` under `limit` if they fit. A cost of zero only looks; a
    /// negative cost gives back earlier charges (a login that succeeded).
    func check(_ key: String, limit: RateLimit, cost: Int) async throws -> RateLimitDecision
}

/// The generic cell rate algorithm: one stored number per key, the "theoretical arrival time"
/// (TAT) at which the key's bucket would be empty again. Every request pushes it forward by the
/// emission interval (`period / limit`); a request is refused if that would put the TAT more than
/// one period ahead of now. Exact, O(1), and the same arithmetic runs in the Redis script.
package enum GCRA {
    /// Times are microseconds on any clock that only moves forward.
    package struct Outcome: Sendable, Equatable {
        package var decision: RateLimitDecision
        /// The key's new TAT, or `nil` to leave the stored one as it is.
        package var newTAT: Int64?
    }

    /// Evaluates a request of `cost` at `now` against the stored `tat` (nil: never seen, or expired).
    package static func evaluate(tat storedTAT: Int64?, now: Int64, limit: RateLimit, cost: Int) -> Outcome {
        let period = limit.period.microseconds
        let emission = max(1, period / Int64(limit.limit))
        let tat = max(storedTAT ?? now, now)
        let newTAT = max(tat + emission * Int64(cost), now)
        let allowAt = newTAT - period
        if cost > 0 && now < allowAt {
            return Outcome(
                decision: RateLimitDecision(
                    allowed: false, limit: limit.limit, remaining: 0,
                    retryAfter: .microseconds(allowAt - now), resetAfter: .microseconds(tat - now)),
                newTAT: nil
            )
        }
        return Outcome(
            decision: RateLimitDecision(
                allowed: true, limit: limit.limit,
                remaining: Int(min(Int64(limit.limit), max(0, (now - allowAt) / emission))),
                retryAfter: .zero, resetAfter: .microseconds(newTAT - now)),
            newTAT: cost == 0 ? nil : newTAT
        )
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

extension ConfigurationSource {
    /// A limit setting, `N/period` or `off` (`nil`); a malformed one is reported and the default kept.
    package mutating func rateLimit(_ name: String, default defaultValue: RateLimit?) -> RateLimit? {
        let text = string(name, default: defaultValue?.description ?? "off")
        if text.lowercased() == "off" { return nil }
        guard let limit = RateLimit(parsing: text) else {
            report("\(name): '\(text)' is not a limit like 20/1m (N/period, unit ms, s, m or h) or off")
            return defaultValue
        }
        return limit
    }
}
