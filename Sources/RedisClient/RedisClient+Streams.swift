package import NIOCore

/// One stream entry: its ID and fields.
package struct RedisStreamEntry: Sendable, Hashable {
    /// The entry ID, e.g. `1700000000000-0`.
    package let id: String
    /// The entry's fields; empty for an entry deleted while still pending.
    package let fields: [String: ByteBuffer]

    /// Creates an entry.
    package init(id: String, fields: [String: ByteBuffer]) {
        self.id = id
        self.fields = fields
    }
}

extension RedisClient {
    /// The stream entry type, under the name the API sketch used.
    package typealias StreamEntry = RedisStreamEntry

    /// `XADD` with an optional approximate `MAXLEN ~` trim; returns the new entry's ID.
    @discardableResult
    package func xadd(
        _ stream: String,
        id: String = "*",
        fields: [(String, any RESPArgument)],
        maxLength: Int? = nil
    ) async throws -> String {
        var arguments: [any RESPArgument] = [stream]
        if let maxLength {
            arguments.append("MAXLEN")
            arguments.append("~")
            arguments.append(maxLength)
        }
        arguments.append(id)
        for (field, value) in fields {
            arguments.append(field)
            arguments.append(value)
        }
        return try await self.send(RedisCommand("XADD", arguments: arguments)).expectString("XADD")
    }

    /// `XGROUP CREATE` (with `MKSTREAM` by default); false when the group already exists (`BUSYGROUP`).
    @discardableResult
    package func xgroupCreate(
        _ stream: String,
        group: String,
        startID: String = "$",
        makeStream: Bool = true
    ) async throws -> Bool {
        var arguments: [any RESPArgument] = ["CREATE", stream, group, startID]
        if makeStream { arguments.append("MKSTREAM") }
        do {
            _ = try await self.send(RedisCommand("XGROUP", arguments: arguments))
            return true
        } catch let error as RedisError where error.code == "BUSYGROUP" {
            return false
        }
    }

    /// `XREADGROUP`, keyed by stream; empty when `block` elapses with nothing new. With `block`, the command
    /// holds a connection exclusively and its timeout is extended by `block`.
    package func xreadgroup(
        group: String,
        consumer: String,
        streams: [(key: String, id: String)],
        count: Int? = nil,
        block: Duration? = nil
    ) async throws -> [String: [RedisStreamEntry]] {
        try await self.read(
            "XREADGROUP", prefix: ["GROUP", group, consumer], streams: streams.map { ($0.key, $0.id) }, count: count,
            block: block)
    }

    /// `XREAD`: entries after the given IDs, keyed by stream, outside any group (nothing becomes pending);
    /// empty when `block` elapses with nothing new. With `block`, the command holds a connection exclusively.
    package func xread(
        streams: [(key: String, after: String)],
        count: Int? = nil,
        block: Duration? = nil
    ) async throws -> [String: [RedisStreamEntry]] {
        try await self.read(
            "XREAD", prefix: [], streams: streams.map { ($0.key, $0.after) }, count: count, block: block)
    }

    /// `XREAD` or `XREADGROUP`. A read that blocks holds its connection exclusively, so that
    /// nothing queues behind it.
    private func read(
        _ name: String, prefix: [any RESPArgument], streams: [(String, String)], count: Int?, block: Duration?
    ) async throws -> [String: [RedisStreamEntry]] {
        var arguments = prefix
        if let count {
            arguments.append("COUNT")
            arguments.append(count)
        }
        if let block {
            arguments.append("BLOCK")
            arguments.append(max(block.redisMilliseconds, 1))
        }
        arguments.append("STREAMS")
        for stream in streams { arguments.append(stream.0) }
        for stream in streams { arguments.append(stream.1) }
        let command = RedisCommand(name, arguments: arguments)
        let reply: RESPValue
        if let block {
            reply = try await self.sendBlocking(command, block: block)
        } else {
            reply = try await self.send(command)
        }
        return try Self.entriesByStream(reply, command: name)
    }

    /// A read's reply: RESP3 answers with a map of stream → entries, RESP2 with an array of
    /// [stream, entries] pairs, and both with null when nothing came.
    private static func entriesByStream(
        _ reply: RESPValue, command: String
    ) throws(RedisError) -> [String: [RedisStreamEntry]] {
        if reply.isNull { return [:] }
        let pairs: [RESPMapEntry]
        if case .map(let entries) = reply {
            pairs = entries
        } else {
            pairs = try reply.expectArray(command).map { element throws(RedisError) in
                guard let parts = element.array, parts.count == 2 else {
                    throw .unexpectedReply("\(command) replied a malformed stream element")
                }
                return RESPMapEntry(key: parts[0], value: parts[1])
            }
        }
        var result: [String: [RedisStreamEntry]] = [:]
        for pair in pairs {
            let key = try pair.key.expectString(command)
            result[key] = try Self.streamEntries(pair.value, command: command)
        }
        return result
    }

    /// `XACK`: how many entries were acknowledged.
    @discardableResult
    package func xack(_ stream: String, group: String, ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await self.send(RedisCommand("XACK", arguments: [stream, group] + ids)).expectInt("XACK")
    }

    /// `XAUTOCLAIM`: entries pending longer than `minIdle` move to `consumer`; `next` is the cursor to continue
    /// from (`0-0` when done) and `deleted` lists pending IDs whose entries no longer exist.
    package func xautoclaim(
        _ stream: String,
        group: String,
        consumer: String,
        minIdle: Duration,
        start: String = "0-0",
        count: Int? = nil
    ) async throws -> (next: String, entries: [RedisStreamEntry], deleted: [String]) {
        var arguments: [any RESPArgument] = [stream, group, consumer, minIdle.redisMilliseconds, start]
        if let count {
            arguments.append("COUNT")
            arguments.append(count)
        }
        let parts = try await self.send(RedisCommand("XAUTOCLAIM", arguments: arguments)).expectArray("XAUTOCLAIM")
        guard parts.count >= 2 else { throw RedisError.unexpectedReply("XAUTOCLAIM replied \(parts.count) elements") }
        let next = try parts[0].expectString("XAUTOCLAIM")
        let entries = try Self.streamEntries(parts[1], command: "XAUTOCLAIM")
        // Redis 6.2 has no third element; 7.0 lists deleted IDs there.
        let deleted =
            try parts.count > 2
            ? parts[2].expectArray("XAUTOCLAIM").map { id throws(RedisError) in try id.expectString("XAUTOCLAIM") }
            : []
        return (next, entries, deleted)
    }

    /// `XCLAIM`: moves the given pending entries to `consumer` if they have been idle at least `minIdle`, counting
    /// a delivery for each; returns the entries claimed (an entry deleted meanwhile comes back without fields).
    package func xclaim(
        _ stream: String,
        group: String,
        consumer: String,
        minIdle: Duration,
        ids: [String]
    ) async throws -> [RedisStreamEntry] {
        guard !ids.isEmpty else { return [] }
        let arguments: [any RESPArgument] = [stream, group, consumer, minIdle.redisMilliseconds] + ids
        let reply = try await self.send(RedisCommand("XCLAIM", arguments: arguments))
        // Entries deleted while pending come back as nil elements in older servers.
        let elements = try reply.expectArray("XCLAIM").filter { !$0.isNull }
        return try Self.streamEntries(.array(elements), command: "XCLAIM")
    }

    /// Summary form of `XPENDING`: total pending, smallest and largest pending IDs, and pending count per consumer.
    package func xpendingSummary(
        _ stream: String,
        group: String
    ) async throws -> (count: Int, smallest: String?, largest: String?, consumers: [String: Int]) {
        let parts = try await self.send(RedisCommand("XPENDING", stream, group)).expectArray("XPENDING")
        guard parts.count == 4 else { throw RedisError.unexpectedReply("XPENDING replied \(parts.count) elements") }
        let count = try parts[0].expectInt("XPENDING")
        var consumers: [String: Int] = [:]
        if !parts[3].isNull {
            for element in try parts[3].expectArray("XPENDING") {
                guard let pair = element.array, pair.count == 2, let name = pair[0].string, let pending = pair[1].int
                else { throw RedisError.unexpectedReply("XPENDING replied a malformed consumer") }
                consumers[name] = pending
            }
        }
        return (count, parts[1].string, parts[2].string, consumers)
    }

    /// Extended form of `XPENDING`: pending entries in `start…end`, optionally for one consumer and idle at least
    /// `minIdle`.
    package func xpending(
        _ stream: String,
        group: String,
        start: String = "-",
        end: String = "+",
        count: Int,
        consumer: String? = nil,
        minIdle: Duration? = nil
    ) async throws -> [(id: String, consumer: String, idle: Duration, deliveries: Int)] {
        var arguments: [any RESPArgument] = [stream, group]
        if let minIdle {
            arguments.append("IDLE")
            arguments.append(minIdle.redisMilliseconds)
        }
        arguments.append(start)
        arguments.append(end)
        arguments.append(count)
        if let consumer { arguments.append(consumer) }
        let elements = try await self.send(RedisCommand("XPENDING", arguments: arguments)).expectArray("XPENDING")
        return try elements.map { element throws(RedisError) in
            guard let parts = element.array, parts.count == 4, let id = parts[0].string, let owner = parts[1].string,
                let idle = parts[2].int, let deliveries = parts[3].int
            else { throw .unexpectedReply("XPENDING replied a malformed entry") }
            return (id, owner, .milliseconds(idle), deliveries)
        }
    }

    /// `XINFO GROUPS`: each consumer group's name, the last entry delivered to it, how many
    /// delivered entries it has not acknowledged, and how many it has not yet been given (`lag`,
    /// nil when Redis cannot tell, e.g. after entries were deleted from the middle).
    package func xinfoGroups(
        _ stream: String
    ) async throws -> [(name: String, lastDeliveredID: String, pending: Int, lag: Int?)] {
        let groups = try await self.send(RedisCommand("XINFO", "GROUPS", stream)).expectArray("XINFO GROUPS")
        return try groups.map { group throws(RedisError) in
            guard let entries = group.mapEntries else {
                throw .unexpectedReply("XINFO GROUPS replied a malformed group")
            }
            var fields: [String: RESPValue] = [:]
            for entry in entries { if let key = entry.key.string { fields[key] = entry.value } }
            guard let name = fields["name"]?.string, let last = fields["last-delivered-id"]?.string,
                let pending = fields["pending"]?.int
            else { throw .unexpectedReply("XINFO GROUPS replied a group without name, last-delivered-id or pending") }
            return (name, last, pending, fields["lag"]?.int)
        }
    }

    /// `XTRIM … MINID ~ id`: removes entries older than `minimumID` (about: whole nodes only);
    /// returns how many.
    @discardableResult
    package func xtrim(_ stream: String, minimumID: String) async throws -> Int {
        try await self.send(RedisCommand("XTRIM", stream, "MINID", "~", minimumID)).expectInt("XTRIM")
    }

    /// `XTRIM … MAXLEN ~ n`: keeps about the newest `maxLength` entries; returns how many went.
    @discardableResult
    package func xtrim(_ stream: String, maxLength: Int) async throws -> Int {
        try await self.send(RedisCommand("XTRIM", stream, "MAXLEN", "~", maxLength)).expectInt("XTRIM")
    }

    /// Every key matching `pattern` of `type` (`SCAN … MATCH … TYPE`), walked to the end.
    package func scanKeys(matching pattern: String, type: String) async throws -> [String] {
        var cursor = "0"
        var keys: [String] = []
        repeat {
            let reply = try await self.send(
                RedisCommand("SCAN", cursor, "MATCH", pattern, "COUNT", 1000, "TYPE", type)
            ).expectArray("SCAN")
            guard reply.count == 2, let next = reply[0].string, let batch = reply[1].array else {
                throw RedisError.unexpectedReply("SCAN replied \(reply.count) elements")
            }
            keys += batch.compactMap(\.string)
            cursor = next
        } while cursor != "0"
        return keys
    }

    /// `XRANGE stream (after + COUNT 1`: the id of the first entry after `after`, if any.
    package func firstEntryID(of stream: String, after: String) async throws -> String? {
        let reply = try await self.send(RedisCommand("XRANGE", stream, "(" + after, "+", "COUNT", 1))
            .expectArray("XRANGE")
        return reply.first?.array?.first?.string
    }

    /// `XLEN`: the number of entries.
    package func xlen(_ stream: String) async throws -> Int {
        try await self.send(RedisCommand("XLEN", stream)).expectInt("XLEN")
    }

    private static func streamEntries(_ value: RESPValue, command: String) throws(RedisError) -> [RedisStreamEntry] {
        if value.isNull { return [] }
        return try value.expectArray(command).map { element throws(RedisError) in
            guard let parts = element.array, parts.count == 2, let id = parts[0].string else {
                throw .unexpectedReply("\(command) replied a malformed stream entry")
            }
            return RedisStreamEntry(id: id, fields: try parts[1].expectFieldDictionary(command))
        }
    }
}
