import Synchronization

/// A value made by one caller at a time and answered again for a while: callers that ask while it
/// is being made wait for that making, and one finished within `maxAge` is answered as it is. For
/// what is costly to make and may be asked for by anyone, as often as they care to.
///
/// The making runs in a task of its own, so a caller that gives up does not cancel it for the
/// others. A value `reusable` turns down (a failure, say) is answered to those already waiting
/// and made anew for the next caller.
package final class SharedResult<Value: Sendable>: Sendable {
    private struct Current {
        var generation: Int
        var task: Task<Value, Never>
        var finishedAt: ContinuousClock.Instant?
    }

    private let state = Mutex<Current?>(nil)
    private let reusable: @Sendable (Value) -> Bool

    /// Nothing made yet; values `reusable` turns down are never answered again.
    package init(reusable: @escaping @Sendable (Value) -> Bool = { _ in true }) {
        self.reusable = reusable
    }

    /// The value being made, or the last one if it finished within `maxAge`, else a new one.
    package func value(maxAge: Duration, make: @escaping @Sendable () async -> Value) async -> Value {
        await task(maxAge: maxAge, make: make).value
    }

    private func task(maxAge: Duration, make: @escaping @Sendable () async -> Value) -> Task<Value, Never> {
        state.withLock { current in
            if let current {
                guard let finishedAt = current.finishedAt else { return current.task }
                if ContinuousClock.now - finishedAt < maxAge { return current.task }
            }
            let generation = (current?.generation ?? 0) + 1
            let task = Task { [self] in
                let value = await make()
                finished(generation, keeping: reusable(value))
                return value
            }
            current = Current(generation: generation, task: task, finishedAt: nil)
            return task
        }
    }

    private func finished(_ generation: Int, keeping: Bool) {
        state.withLock { current in
            guard current?.generation == generation else { return }
            if keeping { current?.finishedAt = .now } else { current = nil }
        }
    }
}
