package import Logging
package import MetricCatalog
import Metrics
package import NIOCore
import NIOPosix
import NIOSSL
import OTelSemanticConventions
import ServiceLifecycle
import Synchronization
package import Tracing

/// A pooled Redis client: thread-safe, shareable, pipelining concurrent callers onto a bounded set of connections.
package final class RedisClient: Sendable {
    /// The configuration the client was created with.
    package let configuration: RedisConfiguration
    let logger: Logger
    let eventLoopGroup: any EventLoopGroup
    let sslContext: NIOSSLContext?
    private let pool: RedisConnectionPool
    private let metrics: RedisMetrics
    private let configurationError: RedisError?
    private let subscriptions = Mutex<[ObjectIdentifier: RedisSubscription]>([:])
    private let isShutdown = Atomic<Bool>(false)
    private let tracer: (any Tracer)?

    /// Creates a client; connections are opened lazily on first use. A configuration problem surfaces from every
    /// call as `RedisError.invalidConfiguration`. Commands are traced by the process's tracer unless a test
    /// gives one.
    package init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        tracer: (any Tracer)? = nil
    ) {
        self.configuration = configuration
        self.tracer = tracer
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.metrics = RedisMetrics()
        var configurationError: RedisError?
        var sslContext: NIOSSLContext?
        do {
            try configuration.validate()
            if configuration.tls {
                // Built once: loading trust roots per connection would make reconnects slow.
                sslContext = try NIOSSLContext(
                    configuration: configuration.tlsConfiguration ?? .makeClientConfiguration()
                )
            }
        } catch let error as RedisError {
            configurationError = error
        } catch {
            configurationError = .invalidConfiguration("TLS configuration: \(error)")
        }
        self.configurationError = configurationError
        self.sslContext = sslContext
        self.pool = RedisConnectionPool(
            configuration: configuration,
            sslContext: sslContext,
            eventLoopGroup: eventLoopGroup,
            logger: logger
        )
    }

    /// Runs `body` with a new client and shuts the client down afterwards, whether `body` returns or throws.
    package static func withClient<T: Sendable>(
        configuration: RedisConfiguration,
        logger: Logger,
        _ body: (RedisClient) async throws -> T
    ) async throws -> T {
        let client = RedisClient(configuration: configuration, logger: logger)
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// Closes all connections and subscriptions; in-flight and later calls fail with `.closed`. Idempotent.
    package func shutdown() async {
        guard !self.isShutdown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await self.pool.shutdown()
        let open = self.subscriptions.withLock { subscriptions in
            defer { subscriptions = [:] }
            return Array(subscriptions.values)
        }
        for subscription in open { await subscription.close() }
    }

    /// Sends one command on a shared connection; a server error reply is thrown as `RedisError.server`.
    package func send(_ command: RedisCommand) async throws -> RESPValue {
        try await self.traced(command.name) {
            let started = ContinuousClock.now
            do {
                let connection = try await self.acquire(exclusive: false)
                defer { self.pool.release(connection, exclusive: false) }
                let value = try await connection.send(command)
                self.metrics.record(commands: 1, since: started)
                return value
            } catch {
                throw self.metrics.recordFailure(error, commands: 1, since: started)
            }
        }
    }

    /// Sends one command built from a name and arguments.
    package func send(_ name: String, _ arguments: any RESPArgument...) async throws -> RESPValue {
        try await self.send(RedisCommand(name, arguments: arguments))
    }

    /// Writes all commands with one flush on one connection; each command's outcome is returned in order.
    package func pipeline(_ commands: [RedisCommand]) async throws -> [Result<RESPValue, RedisError>] {
        try await self.traced("PIPELINE", batch: commands) {
            let started = ContinuousClock.now
            do {
                let connection = try await self.acquire(exclusive: false)
                defer { self.pool.release(connection, exclusive: false) }
                let results = try await connection.pipeline(commands)
                self.metrics.record(commands: commands.count, since: started)
                return results
            } catch {
                throw self.metrics.recordFailure(error, commands: commands.count, since: started)
            }
        }
    }

    /// Runs the commands in MULTI … EXEC on an exclusively held connection and returns EXEC's results.
    /// A command that fails at run time appears as a `.error` element; one rejected while queuing makes the whole
    /// transaction throw `RedisError.server` with `EXECABORT` (Redis discards it).
    package func transaction(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        try await self.traced("MULTI", batch: commands) {
            try await self.withConnection { connection in
                guard let results = try await connection.transaction(commands) else {
                    throw RedisError.unexpectedReply("EXEC was aborted although nothing was WATCHed")
                }
                return results
            }
        }
    }

    /// Runs `body` in a client span named for the command (`PIPELINE` or `MULTI` for a batch, with
    /// its size and its commands' names) when traced work sends it. Traffic outside any span (stream
    /// reads, the outbox relay, pool checks) makes none, so background polling starts no trace.
    /// Only command names are recorded: keys and values may hold personal data.
    private func traced<T>(
        _ operation: String, batch: [RedisCommand]? = nil, _ body: () async throws -> T
    ) async throws -> T {
        guard let parent = ServiceContext.current else { return try await body() }
        let span = (tracer ?? InstrumentationSystem.tracer).startSpan(operation, context: parent, ofKind: .client)
        defer { span.end() }
        if span.isRecording {
            span.attributes[OTelAttribute.db.system.name] = "redis"
            span.attributes[OTelAttribute.db.namespace] = String(configuration.database)
            span.attributes[OTelAttribute.server.address] = configuration.host
            span.attributes[OTelAttribute.server.port] = configuration.port
            if let batch {
                span.attributes[OTelAttribute.db.operation.batch.size] = batch.count
                var names: [String] = []
                for command in batch where !names.contains(command.name) { names.append(command.name) }
                span.attributes[OTelAttribute.db.operation.name] = "\(operation) \(names.joined(separator: " "))"
            } else {
                span.attributes[OTelAttribute.db.operation.name] = operation
            }
        }
        do {
            return try await ServiceContext.$current.withValue(span.context) { try await body() }
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }

    /// Runs `body` with a connection no other caller uses meanwhile (WATCH, blocking commands).
    /// The body should leave the connection as it found it (no open MULTI, WATCH or SELECT of another database).
    package func withConnection<T: Sendable>(_ body: (RedisConnection) async throws -> T) async throws -> T {
        let connection = try await self.acquire(exclusive: true)
        defer { self.pool.release(connection, exclusive: true) }
        return try await body(connection)
    }

    /// Sends PING; throws unless the server answers PONG. Suitable for readiness probes.
    package func ping() async throws {
        let reply = try await self.send(RedisCommand("PING"))
        guard reply.string == "PONG" else { throw RedisError.unexpectedReply("PING replied \(reply)") }
    }

    /// Opens a dedicated connection outside the pool and subscribes it to `channels`; returns once the server
    /// has confirmed every subscription.
    package func subscribe(to channels: [String]) async throws -> RedisSubscription {
        try await self.subscribe(channels, command: "SUBSCRIBE")
    }

    /// Opens a dedicated connection outside the pool and subscribes it to every channel matching one of
    /// `patterns` (`PSUBSCRIBE` glob patterns); returns once the server has confirmed every pattern.
    package func subscribe(toPatterns patterns: [String]) async throws -> RedisSubscription {
        try await self.subscribe(patterns, command: "PSUBSCRIBE")
    }

    private func subscribe(_ channels: [String], command: String) async throws -> RedisSubscription {
        if let configurationError { throw configurationError }
        guard !self.isShutdown.load(ordering: .acquiring) else { throw RedisError.closed }
        let connection = try await RedisConnection.connect(
            configuration: self.configuration,
            sslContext: self.sslContext,
            eventLoop: self.eventLoopGroup.any(),
            logger: self.logger
        )
        let subscription = RedisSubscription(connection: connection, logger: self.logger) { [weak self] closed in
            _ = self?.subscriptions.withLock { $0.removeValue(forKey: ObjectIdentifier(closed)) }
        }
        self.subscriptions.withLock { $0[ObjectIdentifier(subscription)] = subscription }
        do {
            try await subscription.start(
                channels: channels, command: command, timeout: self.configuration.commandTimeout)
        } catch {
            await subscription.close()
            throw error
        }
        if self.isShutdown.load(ordering: .acquiring) {
            await subscription.close()
            throw RedisError.closed
        }
        return subscription
    }

    /// Sends a blocking command on an exclusively held connection, allowing `block` beyond the command timeout.
    func sendBlocking(_ command: RedisCommand, block: Duration) async throws -> RESPValue {
        let started = ContinuousClock.now
        do {
            let value = try await self.withConnection { connection in
                try await connection.send(command, extraTime: block)
            }
            self.metrics.record(commands: 1, since: started)
            return value
        } catch {
            throw self.metrics.recordFailure(error, commands: 1, since: started)
        }
    }

    private func acquire(exclusive: Bool) async throws -> RedisConnection {
        if let configurationError { throw configurationError }
        return try await self.pool.acquire(exclusive: exclusive)
    }
}

extension RedisClient: Service {
    /// Reports the pool's use every few seconds until graceful shutdown, then closes the client.
    package func run() async throws {
        let name = configuration.clientName ?? "rahat"
        let inUse = RedisClientMetrics.poolConnections.gauge(name, "in_use")
        let idle = RedisClientMetrics.poolConnections.gauge(name, "idle")
        let waiting = RedisClientMetrics.poolWaiters.gauge(name)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let usage = pool.usage
            inUse.record(usage.inUse)
            idle.record(usage.open - usage.inUse)
            waiting.record(usage.waiting)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) }
        }
        await self.shutdown()
    }
}

/// The metrics the Redis client records.
package enum RedisClientMetrics {
    /// Commands sent (each of a pipeline counts).
    package static let commands = MetricDefinition.counter(
        "rahat_redis_commands_total", help: "Redis commands sent, each command of a pipeline counted.")
    /// Round trips, a whole pipeline being one.
    package static let duration = MetricDefinition.durations(
        "rahat_redis_command_duration_seconds",
        buckets: [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2),
        ],
        help: "Time from sending a Redis command (or pipeline) to its reply.")
    /// Commands that failed, by kind.
    package static let errors = MetricDefinition.counter(
        "rahat_redis_command_errors_total", labels: ["kind"],
        help: "Redis commands that failed, by kind: connection, timeout, server (an error reply) or other.")

    /// Connections by whether a caller is using them, per client (the process's role).
    package static let poolConnections = MetricDefinition.gauge(
        "rahat_redis_pool_connections", labels: ["client", "state"],
        help: "Redis connections open, by client and state (in_use or idle).")
    /// Callers waiting for a connection: the pool is too small, or Redis is slow.
    package static let poolWaiters = MetricDefinition.gauge(
        "rahat_redis_pool_waiters", labels: ["client"], help: "Callers waiting for a Redis connection, by client.")

    /// Every metric this target declares.
    package static let all = [commands, duration, errors, poolConnections, poolWaiters]
}

/// The client's swift-metrics instruments, created once so recording costs no lookups.
struct RedisMetrics: Sendable {
    let commands = RedisClientMetrics.commands.counter()
    let duration = RedisClientMetrics.duration.timer()
    let connectionErrors = RedisClientMetrics.errors.counter("connection")
    let timeoutErrors = RedisClientMetrics.errors.counter("timeout")
    let serverErrors = RedisClientMetrics.errors.counter("server")
    let otherErrors = RedisClientMetrics.errors.counter("other")

    func record(commands count: Int, since started: ContinuousClock.Instant) {
        self.commands.increment(by: count)
        let elapsed = (ContinuousClock.now - started).nanosecondsClamped
        self.duration.recordNanoseconds(elapsed)
    }

    func recordFailure(_ error: any Error, commands count: Int, since started: ContinuousClock.Instant) -> any Error {
        self.record(commands: count, since: started)
        switch error as? RedisError {
        case .connection?, .closed?: self.connectionErrors.increment()
        case .timeout?: self.timeoutErrors.increment()
        case .server?: self.serverErrors.increment()
        default: self.otherErrors.increment()
        }
        return error
    }
}
