import Synchronization

/// Lets a repeated warning through at most once per interval, so an outage of a dependency that
/// every request touches writes a warning now and then instead of one per request.
package final class LogThrottle: Sendable {
    private let interval: Duration
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    /// A throttle letting one message through per `interval`.
    package init(interval: Duration) {
        self.interval = interval
    }

    /// `true` when the caller should log now.
    package func shouldLog() -> Bool {
        let now = ContinuousClock.now
        return last.withLock { last in
            if let previous = last, now - previous < interval { return false }
            last = now
            return true
        }
    }
}
