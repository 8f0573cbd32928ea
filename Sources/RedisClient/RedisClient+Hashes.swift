package import NIOCore

extension RedisClient {
    /// `HSET`: how many fields were newly created.
    @discardableResult
    package func hset(_ key: String, fields: [(String, any RESPArgument)]) async throws -> Int {
        var arguments: [any RESPArgument] = [key]
        arguments.reserveCapacity(1 + fields.count * 2)
        for (field, value) in fields {
            arguments.append(field)
            arguments.append(value)
        }
        return try await self.send(RedisCommand("HSET", arguments: arguments)).expectInt("HSET")
    }

    /// `HGET`: the field's bytes, or nil when the key or field does not exist.
    package func hget(_ key: String, field: String) async throws -> ByteBuffer? {
        try await self.send(RedisCommand("HGET", key, field)).expectOptionalBuffer("HGET")
    }

    /// `HGETALL` from either a RESP3 map or a RESP2 flat array; empty when the key does not exist.
    package func hgetall(_ key: String) async throws -> [String: ByteBuffer] {
        try await self.send(RedisCommand("HGETALL", key)).expectFieldDictionary("HGETALL")
    }

    /// `HDEL`: how many fields were removed.
    @discardableResult
    package func hdel(_ key: String, fields: [String]) async throws -> Int {
        guard !fields.isEmpty else { return 0 }
        return try await self.send(RedisCommand("HDEL", arguments: [key] + fields)).expectInt("HDEL")
    }

    /// `HINCRBY`: the field's value after incrementing.
    @discardableResult
    package func hincrby(_ key: String, field: String, by amount: Int) async throws -> Int {
        try await self.send(RedisCommand("HINCRBY", key, field, amount)).expectInt("HINCRBY")
    }
}
