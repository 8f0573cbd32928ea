package import NIOCore

/// Which existing-key condition `SET` must satisfy.
package enum RedisSetCondition: Sendable, Hashable {
    /// Set unconditionally.
    case always
    /// Set only if the key does not exist (`NX`).
    case ifNotExists
    /// Set only if the key already exists (`XX`).
    case ifExists
}

extension RedisClient {
    /// `GET`: the value's bytes, or nil when the key does not exist.
    package func get(_ key: String) async throws -> ByteBuffer? {
        try await self.send(RedisCommand("GET", key)).expectOptionalBuffer("GET")
    }

    /// `GET` decoded as UTF-8.
    package func getString(_ key: String) async throws -> String? {
        try await self.get(key).map { String(buffer: $0) }
    }

    /// `SET` with optional `PX` expiry and `NX`/`XX`; false when the condition prevented the write.
    @discardableResult
    package func set(
        _ key: String,
        to value: some RESPArgument,
        expiration: Duration? = nil,
        condition: RedisSetCondition = .always
    ) async throws -> Bool {
        var arguments: [any RESPArgument] = [key, value]
        if let expiration {
            arguments.append("PX")
            arguments.append(max(expiration.redisMilliseconds, 1))
        }
        switch condition {
        case .always: break
        case .ifNotExists: arguments.append("NX")
        case .ifExists: arguments.append("XX")
        }
        let reply = try await self.send(RedisCommand("SET", arguments: arguments))
        if reply.isNull { return false }
        guard reply.string == "OK" else { throw RedisError.unexpectedReply("SET replied \(reply)") }
        return true
    }

    /// `DEL`: how many of the keys existed.
    @discardableResult
    package func delete(_ keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try await self.send(RedisCommand("DEL", arguments: keys)).expectInt("DEL")
    }

    /// `PEXPIRE`: false when the key does not exist.
    @discardableResult
    package func expire(_ key: String, after: Duration) async throws -> Bool {
        try await self.send(RedisCommand("PEXPIRE", key, after.redisMilliseconds)).expectInt("PEXPIRE") == 1
    }

    /// `PTTL`: the remaining time to live, or nil when the key does not exist or has no expiry.
    package func timeToLive(_ key: String) async throws -> Duration? {
        let milliseconds = try await self.send(RedisCommand("PTTL", key)).expectInt("PTTL")
        return milliseconds < 0 ? nil : .milliseconds(milliseconds)
    }

    /// `INCRBY`: the value after incrementing.
    @discardableResult
    package func increment(_ key: String, by amount: Int = 1) async throws -> Int {
        try await self.send(RedisCommand("INCRBY", key, amount)).expectInt("INCRBY")
    }

    /// `EXISTS`: how many of the keys exist (a key named twice counts twice).
    package func exists(_ keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try await self.send(RedisCommand("EXISTS", arguments: keys)).expectInt("EXISTS")
    }

    /// `PUBLISH`: how many subscribers received the message.
    @discardableResult
    package func publish(_ channel: String, message: some RESPArgument) async throws -> Int {
        try await self.send(RedisCommand("PUBLISH", channel, message)).expectInt("PUBLISH")
    }
}
