import Foundation
import Synchronization

/// Failed `IssueServiceToken` calls per caller address. The secret is long and random, so the
/// budget is not what keeps it from being guessed: it keeps a caller that keeps trying (a
/// misconfigured process, or someone probing the internal network) from costing the auth service
/// a digest per call, and makes it visible in the log.
final class ServiceCredentialThrottle: Sendable {
    /// Failures an address may have within ``window`` before all its calls are refused.
    static let failuresAllowed = 10
    static let window: TimeInterval = 60
    /// Addresses remembered at most; a flood of fresh ones forgets the oldest.
    static let capacity = 10_000

    private let failures = Mutex<[String: [Date]]>([:])

    /// Seconds until `peer` may try again, or nil when it may now.
    func retryAfter(_ peer: String, now: Date) -> Int? {
        failures.withLock { failures in
            let recent = (failures[peer] ?? []).filter { $0 > now.addingTimeInterval(-Self.window) }
            failures[peer] = recent.isEmpty ? nil : recent
            guard recent.count >= Self.failuresAllowed, let oldest = recent.first else { return nil }
            return max(1, Int((oldest.addingTimeInterval(Self.window).timeIntervalSince(now)).rounded(.up)))
        }
    }

    /// Counts a failure of `peer`'s.
    func charge(_ peer: String, now: Date) {
        failures.withLock { failures in
            if failures[peer] == nil, failures.count >= Self.capacity {
                failures = failures.filter { $0.value.last.map { $0 > now.addingTimeInterval(-Self.window) } ?? false }
                if failures.count >= Self.capacity { failures.removeAll(keepingCapacity: true) }
            }
            failures[peer, default: []].append(now)
        }
    }
}
