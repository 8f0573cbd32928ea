extension RedisClient {
    /// `ZADD`: how many members were newly added.
    @discardableResult
    package func zadd(_ key: String, members: [(score: Double, member: String)]) async throws -> Int {
        guard !members.isEmpty else { return 0 }
        var arguments: [any RESPArgument] = [key]
        arguments.reserveCapacity(1 + members.count * 2)
        for (score, member) in members {
            arguments.append(score)
            arguments.append(member)
        }
        return try await self.send(RedisCommand("ZADD", arguments: arguments)).expectInt("ZADD")
    }

    /// `ZRANGEBYSCORE` with Redis's bound syntax (`-inf`, `+inf`, `(5` for exclusive) and an optional LIMIT.
    package func zrangeByScore(
        _ key: String,
        min: String,
        max: String,
        limit: (offset: Int, count: Int)? = nil
    ) async throws -> [String] {
        var arguments: [any RESPArgument] = [key, min, max]
        if let limit {
            arguments.append("LIMIT")
            arguments.append(limit.offset)
            arguments.append(limit.count)
        }
        let reply = try await self.send(RedisCommand("ZRANGEBYSCORE", arguments: arguments))
        return try reply.expectArray("ZRANGEBYSCORE").map { element throws(RedisError) in
            try element.expectString("ZRANGEBYSCORE")
        }
    }

    /// `ZRANGE … WITHSCORES` by rank, from RESP2's flat array or RESP3's member/score pairs.
    package func zrangeWithScores(
        _ key: String, start: Int, stop: Int
    ) async throws -> [(member: String, score: Double)] {
        let elements = try await self.send(RedisCommand("ZRANGE", key, start, stop, "WITHSCORES"))
            .expectArray("ZRANGE")
        var result: [(member: String, score: Double)] = []
        if elements.allSatisfy({ $0.array != nil }) {
            result.reserveCapacity(elements.count)
            for pair in elements {
                guard let parts = pair.array, parts.count == 2, let member = parts[0].string,
                    let score = parts[1].double
                else { throw RedisError.unexpectedReply("ZRANGE replied a malformed member/score pair") }
                result.append((member, score))
            }
            return result
        }
        guard elements.count.isMultiple(of: 2) else { throw RedisError.unexpectedReply("ZRANGE replied an odd list") }
        result.reserveCapacity(elements.count / 2)
        var index = 0
        while index < elements.count {
            guard let member = elements[index].string, let score = elements[index + 1].double else {
                throw RedisError.unexpectedReply("ZRANGE replied a malformed member/score pair")
            }
            result.append((member, score))
            index += 2
        }
        return result
    }

    /// `ZREM`: how many members were removed.
    @discardableResult
    package func zrem(_ key: String, members: [String]) async throws -> Int {
        guard !members.isEmpty else { return 0 }
        return try await self.send(RedisCommand("ZREM", arguments: [key] + members)).expectInt("ZREM")
    }

    /// `ZSCORE`: the member's score, or nil when the key or member does not exist.
    package func zscore(_ key: String, member: String) async throws -> Double? {
        let reply = try await self.send(RedisCommand("ZSCORE", key, member))
        if reply.isNull { return nil }
        guard let score = reply.double else { throw RedisError.unexpectedReply("ZSCORE replied \(reply)") }
        return score
    }

    /// `ZCARD`: the number of members.
    package func zcard(_ key: String) async throws -> Int {
        try await self.send(RedisCommand("ZCARD", key)).expectInt("ZCARD")
    }
}
