extension Array {
    /// The array in consecutive pieces of at most `size`, so one statement never binds too many values.
    package func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
