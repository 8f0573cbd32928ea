package import Foundation
import Synchronization

/// A clock tests move by hand: real time plus an offset, so leases and tokens lapse, and
/// schedules fall due, without waiting.
package final class TestClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    package init() {}

    package var now: @Sendable () -> Date {
        { Date().addingTimeInterval(self.offset.withLock { $0 }) }
    }

    package func advance(by seconds: TimeInterval) {
        offset.withLock { $0 += seconds }
    }
}
