/// A `Duration` in the units the platform's stores, protocols and headers speak.
extension Duration {
    /// The duration in (fractional) seconds.
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Whole microseconds, rounded down.
    package var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    /// Whole milliseconds, rounded down.
    package var milliseconds: Int64 { microseconds / 1000 }

    /// Whole seconds, rounded up: what a client should wait before retrying.
    package var wholeSecondsRoundedUp: Int {
        Int((microseconds + 999_999) / 1_000_000)
    }
}
