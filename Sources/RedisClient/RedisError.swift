/// Everything that can go wrong talking to Redis, grouped by what a caller would do about it.
package enum RedisError: Error, CustomStringConvertible, Sendable, Hashable {
    /// Could not connect, the connection was lost, or the server is known to be unreachable right now.
    case connection(String)
    /// A connect, command or pool wait exceeded its time limit.
    case timeout(String)
    /// The server replied with an error; the full message, e.g. `WRONGPASS invalid username-password pair`.
    case server(String)
    /// The server sent bytes that are not valid RESP.
    case protocolViolation(String)
    /// The client or connection was shut down.
    case closed
    /// The configuration (or URL) is unusable.
    case invalidConfiguration(String)
    /// A typed helper got a reply of a shape it did not expect.
    case unexpectedReply(String)

    /// The error code of a server error (its first word, e.g. `WRONGPASS`, `NOSCRIPT`), else nil.
    package var code: String? {
        guard case .server(let message) = self else { return nil }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }

    /// A short label for the error's case, used as the metrics dimension.
    package var kind: String {
        switch self {
        case .connection: "connection"
        case .timeout: "timeout"
        case .server: "server"
        case .protocolViolation: "protocol"
        case .closed: "closed"
        case .invalidConfiguration: "configuration"
        case .unexpectedReply: "unexpected_reply"
        }
    }

    /// A human-readable description.
    package var description: String {
        switch self {
        case .connection(let message): "Redis connection error: \(message)"
        case .timeout(let message): "Redis timeout: \(message)"
        case .server(let message): "Redis server error: \(message)"
        case .protocolViolation(let message): "Redis protocol violation: \(message)"
        case .closed: "Redis client is closed"
        case .invalidConfiguration(let message): "Invalid Redis configuration: \(message)"
        case .unexpectedReply(let message): "Unexpected Redis reply: \(message)"
        }
    }
}
