package import NIOCore
import NIOPosix

/// HTTP/1.1 over a plain socket, for what a well-behaved client library will not do: send a body
/// far larger than it holds (one chunk written again and again), or send a request slowly.
package enum RawHTTPClient {
    /// Sends `head` (request line and headers, without the blank line), then `opening` and
    /// `repeats` copies of `chunk` as the body, chunked or not as the head says, and returns the
    /// status of the answer (`nil` when the server closed without one). Writing stops as soon as
    /// the server answers or closes, as a client would.
    package static func send(
        port: Int, head: String, opening: ByteBuffer = ByteBuffer(), chunk: ByteBuffer, repeats: Int, chunked: Bool
    ) async throws -> Int? {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Int?.self) { tasks in
                tasks.addTask {
                    var received = ByteBuffer()
                    for try await var part in inbound {
                        received.writeBuffer(&part)
                        if let status = Self.status(in: received) { return status }
                    }
                    return Self.status(in: received)
                }
                tasks.addTask {
                    do {
                        try await outbound.write(ByteBuffer(string: head + "\r\n\r\n"))
                        for part in [opening] + Array(repeating: chunk, count: repeats) where part.readableBytes > 0 {
                            if chunked {
                                try await outbound.write(
                                    ByteBuffer(string: String(part.readableBytes, radix: 16) + "\r\n"))
                            }
                            try await outbound.write(part)
                            if chunked { try await outbound.write(ByteBuffer(string: "\r\n")) }
                        }
                        if chunked { try await outbound.write(ByteBuffer(string: "0\r\n\r\n")) }
                    } catch {
                        // The server answered early and closed: the answer is what matters.
                    }
                    // Waits for the reader, which ends the group.
                    try await Task.sleep(for: .seconds(3600))
                    return nil
                }
                let status = try await tasks.next() ?? nil
                tasks.cancelAll()
                return status
            }
        }
    }

    /// Opens a connection, sends `prefix` and nothing more, and returns how long the server kept
    /// the connection open (up to `limit`).
    package static func holdOpen(port: Int, prefix: String, limit: Duration) async throws -> Duration {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let started = ContinuousClock.now
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: prefix))
            return try await withThrowingTaskGroup(of: Duration.self) { tasks in
                tasks.addTask {
                    for try await _ in inbound {}
                    return ContinuousClock.now - started
                }
                tasks.addTask {
                    try await Task.sleep(for: limit)
                    return limit
                }
                let held = try await tasks.next() ?? limit
                tasks.cancelAll()
                return held
            }
        }
    }

    private static func status(in received: ByteBuffer) -> Int? {
        let text = String(buffer: received)
        guard let line = text.split(separator: "\r\n", maxSplits: 1).first, text.contains("\r\n") else { return nil }
        let parts = line.split(separator: " ")
        return parts.count >= 2 ? Int(parts[1]) : nil
    }
}
