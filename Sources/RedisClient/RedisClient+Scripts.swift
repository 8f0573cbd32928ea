import Crypto

/// A Lua script identified by its SHA1, so it is sent in full only when the server does not have it cached.
package struct RedisScript: Sendable, Hashable {
    /// The Lua source.
    package let source: String
    /// Lowercase hex SHA1 of the source, as `EVALSHA` expects.
    package let sha1: String

    /// Creates a script and computes its SHA1.
    package init(_ source: String) {
        self.source = source
        let digest = Insecure.SHA1.hash(data: Array(source.utf8))
        self.sha1 = digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

extension RedisClient {
    /// `EVALSHA`; when the server has not cached the script (`NOSCRIPT`), loads it with `SCRIPT LOAD` and retries once.
    package func evalScript(
        _ script: RedisScript, keys: [String], arguments: [any RESPArgument]
    ) async throws -> RESPValue {
        var commandArguments: [any RESPArgument] = [script.sha1, keys.count]
        commandArguments.reserveCapacity(2 + keys.count + arguments.count)
        for key in keys { commandArguments.append(key) }
        commandArguments.append(contentsOf: arguments)
        let command = RedisCommand("EVALSHA", arguments: commandArguments)
        do {
            return try await self.send(command)
        } catch let error as RedisError where error.code == "NOSCRIPT" {
            let loaded = try await self.send(RedisCommand("SCRIPT", "LOAD", script.source)).expectString("SCRIPT LOAD")
            guard loaded == script.sha1 else {
                throw RedisError.unexpectedReply("SCRIPT LOAD returned SHA1 \(loaded), expected \(script.sha1)")
            }
            return try await self.send(command)
        }
    }
}
