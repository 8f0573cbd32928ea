package import NIOSSL

/// Which RESP version the handshake asks for.
package enum RedisProtocolVersion: Sendable, Hashable {
    /// `HELLO 3`, falling back to RESP2 when the server does not know HELLO.
    case resp3
    /// Skip HELLO and speak RESP2 (`AUTH`, `CLIENT SETNAME`), as servers before Redis 6 require.
    case resp2
}

/// How to reach and talk to one Redis server.
///
/// Keys (URL form `redis://[user[:password]@]host[:port][/db]`, `rediss://` for TLS): host (default 127.0.0.1),
/// port (6379), username/password (none), database (0), tls (false), clientName (none), poolSize (8),
/// commandTimeout (2 s), connectTimeout (2 s), poolWaitTimeout (5 s), healthCheckInterval (30 s),
/// protocolVersion (RESP3 with fallback).
package struct RedisConfiguration: Sendable {
    /// Server host name or IP address.
    package var host: String
    /// Server TCP port.
    package var port: Int
    /// ACL user name; nil authenticates as `default` when a password is set.
    package var username: String?
    /// Password for `AUTH` / `HELLO AUTH`.
    package var password: String?
    /// Logical database selected with `SELECT` after connecting.
    package var database: Int
    /// Whether to use TLS (`rediss://`).
    package var tls: Bool
    /// TLS settings; nil means the default client configuration with the system trust roots.
    package var tlsConfiguration: TLSConfiguration?
    /// Name shown in `CLIENT LIST`.
    package var clientName: String?
    /// Maximum number of pooled connections (pub/sub connections are extra).
    package var poolSize: Int
    /// How long a command may wait for its reply.
    package var commandTimeout: Duration
    /// How long connecting, including TLS and the handshake, may take.
    package var connectTimeout: Duration
    /// How long a caller may wait for a pooled connection to become available.
    package var poolWaitTimeout: Duration
    /// A pooled connection unused for this long is PINGed before it is used again.
    package var healthCheckInterval: Duration
    /// RESP version to negotiate.
    package var protocolVersion: RedisProtocolVersion

    /// Creates a configuration for a server without authentication.
    package init(host: String = "127.0.0.1", port: Int = 6379) {
        self.host = host
        self.port = port
        self.username = nil
        self.password = nil
        self.database = 0
        self.tls = false
        self.tlsConfiguration = nil
        self.clientName = nil
        self.poolSize = 8
        self.commandTimeout = .seconds(2)
        self.connectTimeout = .seconds(2)
        self.poolWaitTimeout = .seconds(5)
        self.healthCheckInterval = .seconds(30)
        self.protocolVersion = .resp3
    }

    /// Parses `redis://[user[:password]@]host[:port][/db]` and `rediss://…`; user and password are percent-decoded.
    package init(url: String) throws(RedisError) {
        self.init()
        let rest: Substring
        if url.hasPrefix("redis://") {
            rest = url.dropFirst("redis://".count)
        } else if url.hasPrefix("rediss://") {
            rest = url.dropFirst("rediss://".count)
            self.tls = true
        } else {
            let scheme = url.firstIndex(of: ":").map { String(url[..<$0]) } ?? url
            throw .invalidConfiguration("unsupported URL scheme '\(scheme)'; expected redis:// or rediss://")
        }
        // The user info ends at the last '@', so an unencoded '/', '?' or '@' in a password cannot
        // cut it short and leak part of it into the host, the port or an error message.
        let at = rest.lastIndex(of: "@")
        let afterUserInfo = rest[(at.map { rest.index(after: $0) } ?? rest.startIndex)...]
        // Query parameters are not part of the supported syntax; they are ignored rather than misread as a path.
        let withoutQuery =
            afterUserInfo.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? afterUserInfo
        let authorityEnd = withoutQuery.firstIndex(of: "/") ?? withoutQuery.endIndex
        let authority = withoutQuery[..<authorityEnd]
        let path = withoutQuery[authorityEnd...]

        if let at {
            let userInfo = rest[..<at]
            let parts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let user = try Self.percentDecode(parts[0], what: "user name")
            self.username = user.isEmpty ? nil : user
            if parts.count == 2 {
                self.password = try Self.percentDecode(parts[1], what: "password")
            }
        }

        let hostPart: Substring
        let portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw .invalidConfiguration("unterminated IPv6 address in '\(authority)'")
            }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let afterBracket = authority[authority.index(after: close)...]
            if afterBracket.isEmpty {
                portPart = nil
            } else if afterBracket.hasPrefix(":") {
                portPart = afterBracket.dropFirst()
            } else {
                throw .invalidConfiguration("unexpected '\(afterBracket)' after IPv6 address")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        } else {
            hostPart = authority
            portPart = nil
        }
        guard !hostPart.isEmpty else { throw .invalidConfiguration("URL has no host") }
        self.host = String(hostPart)
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port) else {
                throw .invalidConfiguration("invalid port '\(portPart)'; expected 1-65535")
            }
            self.port = port
        }

        let database = path.drop(while: { $0 == "/" })
        if !database.isEmpty {
            guard let number = Int(database), number >= 0 else {
                throw .invalidConfiguration("invalid database '\(database)'; expected a non-negative integer")
            }
            self.database = number
        }
    }

    /// Checks the values a URL cannot express wrongly but code can.
    package func validate() throws(RedisError) {
        var problems: [String] = []
        if self.host.isEmpty { problems.append("host is empty") }
        if !(1...65535).contains(self.port) { problems.append("port \(self.port) is outside 1-65535") }
        if self.database < 0 { problems.append("database \(self.database) is negative") }
        if self.poolSize < 1 { problems.append("poolSize \(self.poolSize) must be at least 1") }
        if self.commandTimeout <= .zero { problems.append("commandTimeout must be positive") }
        if self.connectTimeout <= .zero { problems.append("connectTimeout must be positive") }
        if self.poolWaitTimeout <= .zero { problems.append("poolWaitTimeout must be positive") }
        guard problems.isEmpty else { throw .invalidConfiguration(problems.joined(separator: "; ")) }
    }

    private static func percentDecode(_ text: Substring, what: String) throws(RedisError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue)
            else {
                throw .invalidConfiguration("invalid percent-encoding in \(what)")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw .invalidConfiguration("\(what) is not valid UTF-8 after percent-decoding")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating; NIO's `TimeAmount` needs them.
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = self.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
