extension Dictionary {
    /// Sets `value` for `key` in a map kept to `capacity` entries: when it is full, the entries
    /// `expired` says are over go first, and all of them if none are (a flood of fresh keys).
    package mutating func set(
        _ value: Value, for key: Key, capacity: Int, dropping expired: (Value) -> Bool
    ) {
        if count >= capacity {
            self = filter { !expired($0.value) }
            if count >= capacity { removeAll(keepingCapacity: true) }
        }
        self[key] = value
    }
}
