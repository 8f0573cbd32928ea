package import NIOCore

extension Duration {
    /// Whole milliseconds, rounded up so a positive duration never becomes Redis's "no timeout" zero.
    package var redisMilliseconds: Int {
        let nanoseconds = self.nanosecondsClamped
        guard nanoseconds > 0 else { return 0 }
        return Int((nanoseconds + 999_999) / 1_000_000)
    }
}

extension RESPValue {
    /// The reply as an `Int`, or `unexpectedReply` naming the command.
    func expectInt(_ command: String) throws(RedisError) -> Int {
        guard let value = self.int else { throw .unexpectedReply("\(command) replied \(self), expected an integer") }
        return value
    }

    /// The reply as a `String`, or `unexpectedReply` naming the command.
    func expectString(_ command: String) throws(RedisError) -> String {
        guard let value = self.string else { throw .unexpectedReply("\(command) replied \(self), expected a string") }
        return value
    }

    /// The reply's elements, or `unexpectedReply` naming the command.
    func expectArray(_ command: String) throws(RedisError) -> [RESPValue] {
        guard let value = self.array else { throw .unexpectedReply("\(command) replied \(self), expected an array") }
        return value
    }

    /// Nil for a null reply, the bytes of a string reply, else `unexpectedReply`.
    func expectOptionalBuffer(_ command: String) throws(RedisError) -> ByteBuffer? {
        if self.isNull { return nil }
        guard let value = self.buffer else { throw .unexpectedReply("\(command) replied \(self), expected a string") }
        return value
    }

    /// A RESP3 map or RESP2 flat array of string keys, as a dictionary of byte values.
    package func expectFieldDictionary(_ command: String) throws(RedisError) -> [String: ByteBuffer] {
        if self.isNull { return [:] }
        guard let entries = self.mapEntries else {
            throw .unexpectedReply("\(command) replied \(self), expected field/value pairs")
        }
        var fields: [String: ByteBuffer] = [:]
        fields.reserveCapacity(entries.count)
        for entry in entries {
            guard let key = entry.key.string, let value = entry.value.buffer else {
                throw .unexpectedReply("\(command) replied a non-string field or value")
            }
            fields[key] = value
        }
        return fields
    }
}
