import Logging
package import NIOCore
import Synchronization

/// One message received on a subscribed channel.
package struct RedisPubSubMessage: Sendable, Hashable {
    /// The channel the message was published to.
    package let channel: String
    /// The message payload.
    package let message: ByteBuffer
    /// The matching pattern when the message arrived through a pattern subscription.
    package let pattern: String?
}

/// Messages from a dedicated pub/sub connection. Iterate it once; ending the iteration, cancelling the iterating
/// task or calling `close()` unsubscribes and closes the connection. Messages are buffered without bound while
/// nobody iterates, so consume promptly.
package final class RedisSubscription: AsyncSequence, Sendable {
    /// What iteration yields.
    package typealias Element = RedisPubSubMessage

    private struct State {
        var pendingConfirmations: Set<String> = []
        var confirmation: CheckedContinuation<Void, any Error>?
        var closed = false
    }

    private let connection: RedisConnection
    private let logger: Logger
    private let stream: AsyncThrowingStream<RedisPubSubMessage, any Error>
    private let continuation: AsyncThrowingStream<RedisPubSubMessage, any Error>.Continuation
    private let state = Mutex(State())
    private let onClose: @Sendable (RedisSubscription) -> Void

    init(connection: RedisConnection, logger: Logger, onClose: @escaping @Sendable (RedisSubscription) -> Void) {
        self.connection = connection
        self.logger = logger
        self.onClose = onClose
        (self.stream, self.continuation) = AsyncThrowingStream.makeStream(of: RedisPubSubMessage.self)
    }

    /// Iterates the received messages; throws `RedisError.connection` if the connection is lost.
    package func makeAsyncIterator() -> Iterator {
        Iterator(base: self.stream.makeAsyncIterator(), token: IterationToken(subscription: self))
    }

    /// Unsubscribes and closes the connection; iteration ends normally. Idempotent.
    package func close() async {
        let first = self.state.withLock { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        let confirmation = self.state.withLock { state in
            defer { state.confirmation = nil }
            return state.confirmation
        }
        confirmation?.resume(throwing: RedisError.closed)
        // The unsubscribes are flushed before the close, which the event loop runs after them.
        self.connection.sendUnacknowledged([RedisCommand("UNSUBSCRIBE"), RedisCommand("PUNSUBSCRIBE")])
        await self.connection.close(failingPendingWith: .closed)
        self.continuation.finish()
        self.onClose(self)
    }

    func start(channels: [String], command: String, timeout: Duration) async throws {
        self.continuation.onTermination = { [weak self] termination in
            guard case .cancelled = termination, let self else { return }
            Task { await self.close() }
        }
        try await self.connection.enterSubscriberMode { [weak self] result in
            self?.handle(result)
        }
        guard !channels.isEmpty else { return }
        let connection = self.connection
        try await withCheckedThrowingContinuation { (confirmation: CheckedContinuation<Void, any Error>) in
            self.state.withLock { state in
                state.pendingConfirmations = Set(channels)
                state.confirmation = confirmation
            }
            connection.sendUnacknowledged([RedisCommand(command, arguments: channels)])
            connection.channel.eventLoop.scheduleTask(in: .nanoseconds(timeout.nanosecondsClamped)) { [weak self] in
                self?.failConfirmation(.timeout("SUBSCRIBE was not confirmed in time"))
            }
        }
    }

    private func failConfirmation(_ error: RedisError) {
        let confirmation = self.state.withLock { state in
            defer { state.confirmation = nil }
            return state.confirmation
        }
        confirmation?.resume(throwing: error)
    }

    private func handle(_ result: Result<RESPValue, RedisError>) {
        let value: RESPValue
        switch result {
        case .failure(let error):
            self.failConfirmation(error)
            let closed = self.state.withLock { $0.closed }
            if closed {
                self.continuation.finish()
            } else {
                self.logger.warning("Redis subscription connection lost", metadata: ["error": "\(error)"])
                self.continuation.finish(throwing: error)
            }
            return
        case .success(let received):
            value = received
        }
        if case .error(let message) = value {
            self.failConfirmation(.server(message))
            return
        }
        guard let parts = value.array, let kind = parts.first?.string else { return }
        switch kind {
        case "message" where parts.count >= 3:
            guard let channel = parts[1].string, let payload = parts[2].buffer else { return }
            self.continuation.yield(RedisPubSubMessage(channel: channel, message: payload, pattern: nil))
        case "pmessage" where parts.count >= 4:
            guard let channel = parts[2].string, let payload = parts[3].buffer else { return }
            self.continuation.yield(RedisPubSubMessage(channel: channel, message: payload, pattern: parts[1].string))
        case "subscribe", "psubscribe":
            guard parts.count >= 2, let channel = parts[1].string else { return }
            let confirmation = self.state.withLock { state -> CheckedContinuation<Void, any Error>? in
                state.pendingConfirmations.remove(channel)
                guard state.pendingConfirmations.isEmpty else { return nil }
                defer { state.confirmation = nil }
                return state.confirmation
            }
            confirmation?.resume()
        default:
            // unsubscribe confirmations and pongs need no action.
            break
        }
    }

    /// Iterator over received messages; when the last copy is dropped, the subscription closes.
    package struct Iterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<RedisPubSubMessage, any Error>.Iterator
        let token: IterationToken

        /// The next message, or nil once the subscription is closed.
        package mutating func next() async throws -> RedisPubSubMessage? {
            try await self.base.next()
        }
    }

    /// Ties the subscription's lifetime to its iteration, so a `break` out of `for try await` unsubscribes.
    final class IterationToken: Sendable {
        let subscription: RedisSubscription

        init(subscription: RedisSubscription) {
            self.subscription = subscription
        }

        deinit {
            let subscription = self.subscription
            Task { await subscription.close() }
        }
    }
}
