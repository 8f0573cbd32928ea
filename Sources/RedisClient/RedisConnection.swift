import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One connection to Redis. Many callers may pipeline on it at once; replies are matched to commands in order.
package final class RedisConnection: Sendable {
    /// Process-unique identifier, used in logs and by the pool.
    package let id: Int
    /// The RESP version the handshake settled on (2 or 3).
    package let protocolVersion: Int
    let channel: any Channel
    let shared: RedisConnectionShared
    private let handler: NIOLoopBound<RedisChannelHandler>
    private let commandTimeout: TimeAmount

    private static let nextID = Atomic<Int>(1)

    private init(
        channel: any Channel,
        handler: NIOLoopBound<RedisChannelHandler>,
        shared: RedisConnectionShared,
        protocolVersion: Int,
        commandTimeout: Duration
    ) {
        self.id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        self.channel = channel
        self.handler = handler
        self.shared = shared
        self.protocolVersion = protocolVersion
        self.commandTimeout = .nanoseconds(commandTimeout.nanosecondsClamped)
    }

    /// Whether the connection can still carry commands.
    package var isOpen: Bool {
        self.channel.isActive && !self.shared.isClosed.load(ordering: .acquiring)
    }

    /// Commands sent on this connection and not yet answered.
    var inFlight: Int { self.shared.inFlight.load(ordering: .relaxed) }

    /// Sends a command; a server error reply is thrown as `RedisError.server`.
    package func send(_ command: RedisCommand) async throws -> RESPValue {
        try Self.check(await self.sendRaw(command, deadline: .now() + self.commandTimeout))
    }

    /// Sends a command built from a name and arguments.
    package func send(_ name: String, _ arguments: any RESPArgument...) async throws -> RESPValue {
        try await self.send(RedisCommand(name, arguments: arguments))
    }

    /// Sends a command whose reply may legitimately take `extraTime` longer than the command timeout (blocking reads).
    package func send(_ command: RedisCommand, extraTime: Duration) async throws -> RESPValue {
        let timeout = self.commandTimeout + .nanoseconds(extraTime.nanosecondsClamped)
        return try Self.check(await self.sendRaw(command, deadline: .now() + timeout))
    }

    /// Writes all commands with one flush and returns each one's outcome, in order.
    package func pipeline(_ commands: [RedisCommand]) async throws -> [Result<RESPValue, RedisError>] {
        let values = try await self.sendBatch(commands)
        return values.map { value in
            if case .error(let message) = value { return .failure(.server(message)) }
            return .success(value)
        }
    }

    /// Runs the commands between MULTI and EXEC; nil when EXEC was aborted by a WATCHed key changing.
    /// A command that fails at run time appears as a `.error` element; one rejected while queuing throws `EXECABORT`.
    package func transaction(_ commands: [RedisCommand]) async throws -> [RESPValue]? {
        var batch: [RedisCommand] = []
        batch.reserveCapacity(commands.count + 2)
        batch.append(RedisCommand("MULTI"))
        batch.append(contentsOf: commands)
        batch.append(RedisCommand("EXEC"))
        let replies = try await self.sendBatch(batch)
        guard let exec = replies.last else { throw RedisError.unexpectedReply("no reply to EXEC") }
        switch exec {
        case .error(let message):
            // Report the queuing error that caused EXECABORT; it says which command was wrong.
            let cause = replies.dropLast().first { if case .error = $0 { true } else { false } }
            if case .error(let queued) = cause { throw RedisError.server("\(message) (\(queued))") }
            throw RedisError.server(message)
        case .null:
            return nil
        case .array(let results):
            return results
        default:
            throw RedisError.unexpectedReply("EXEC replied \(exec)")
        }
    }

    /// Sends PING and checks the answer.
    package func ping() async throws {
        let reply = try await self.send(RedisCommand("PING"))
        guard reply.string == "PONG" else { throw RedisError.unexpectedReply("PING replied \(reply)") }
    }

    /// Closes the connection; commands still waiting fail with `error`.
    package func close(failingPendingWith error: RedisError = .closed) async {
        self.shared.isClosed.store(true, ordering: .releasing)
        self.shared.queue.withLock { queue in
            if queue.closedError == nil { queue.closedError = error }
        }
        try? await self.channel.close()
    }

    func sendRaw(_ command: RedisCommand, deadline: NIODeadline) async throws -> RESPValue {
        try await withCheckedThrowingContinuation { continuation in
            self.submit(.single(command, deadline, continuation))
        }
    }

    func sendBatch(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        // A long pipeline gets time in proportion to its length, so 10,000 commands are not cut off at 2 s.
        let scaled = self.commandTimeout + .microseconds(Int64(commands.count) * 50)
        return try await withCheckedThrowingContinuation { continuation in
            self.submit(.batch(commands, .now() + scaled, continuation))
        }
    }

    func sendUnacknowledged(_ commands: [RedisCommand]) {
        self.submit(.unacknowledged(commands))
    }

    func enterSubscriberMode(_ handler: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) async throws {
        try await self.channel.eventLoop.submit {
            self.handler.value.enterSubscriberMode(handler)
        }.get()
    }

    private func submit(_ request: RedisOutbound) {
        enum Action {
            case fail(RedisError)
            case scheduleDrain
            case none
        }
        let count = request.commandCount
        self.shared.inFlight.add(count, ordering: .relaxed)
        let action = self.shared.queue.withLock { queue -> Action in
            if let error = queue.closedError {
                // The command was never sent, so the reason the connection died (say, another command's timeout)
                // is not this command's outcome.
                if case .closed = error { return .fail(.closed) }
                return .fail(.connection("connection closed before the command was sent (\(error))"))
            }
            queue.items.append(request)
            if queue.drainScheduled { return .none }
            queue.drainScheduled = true
            return .scheduleDrain
        }
        switch action {
        case .fail(let error):
            self.shared.inFlight.subtract(count, ordering: .relaxed)
            request.fail(error)
        case .scheduleDrain:
            self.channel.eventLoop.execute { self.drain() }
        case .none:
            break
        }
    }

    private func drain() {
        let requests = self.shared.queue.withLock { queue -> [RedisOutbound] in
            queue.drainScheduled = false
            let items = queue.items
            queue.items = []
            return items
        }
        guard !requests.isEmpty else { return }
        self.handler.value.write(requests)
    }

    @discardableResult
    private static func check(_ value: RESPValue) throws(RedisError) -> RESPValue {
        if case .error(let message) = value { throw .server(message) }
        return value
    }
}

extension RedisConnection {
    /// Connects, negotiates the protocol, authenticates, names the client and selects the database, all within
    /// `connectTimeout`.
    static func connect(
        configuration: RedisConfiguration,
        sslContext: NIOSSLContext?,
        eventLoop: any EventLoop,
        logger: Logger
    ) async throws(RedisError) -> RedisConnection {
        let started = NIODeadline.now()
        let connectTimeout = TimeAmount.nanoseconds(configuration.connectTimeout.nanosecondsClamped)
        let deadline = started + connectTimeout
        let endpoint = "\(configuration.host):\(configuration.port)"
        let serverHostname = Self.isIPAddress(configuration.host) ? nil : configuration.host
        let shared = RedisConnectionShared()

        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let tls = try NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
                        try channel.pipeline.syncOperations.addHandler(tls)
                    }
                    try channel.pipeline.syncOperations.addHandler(RedisChannelHandler(shared: shared))
                }
            }

        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch ChannelError.connectTimeout {
            throw .timeout("connecting to \(endpoint) took longer than \(configuration.connectTimeout)")
        } catch {
            throw .connection("could not connect to \(endpoint): \(error)")
        }

        do {
            let handler = try await channel.eventLoop.submit {
                NIOLoopBound(
                    try channel.pipeline.syncOperations.handler(type: RedisChannelHandler.self),
                    eventLoop: channel.eventLoop
                )
            }.get()
            let provisional = RedisConnection(
                channel: channel,
                handler: handler,
                shared: shared,
                protocolVersion: 3,
                commandTimeout: configuration.commandTimeout
            )
            let version = try await provisional.handshake(configuration: configuration, deadline: deadline)
            let connection = RedisConnection(
                channel: channel,
                handler: handler,
                shared: shared,
                protocolVersion: version,
                commandTimeout: configuration.commandTimeout
            )
            logger.debug(
                "Redis connection established",
                metadata: [
                    "redis_endpoint": "\(endpoint)", "redis_connection": "\(connection.id)", "redis_resp": "\(version)",
                ]
            )
            return connection
        } catch {
            try? await channel.close()
            switch error {
            case let redisError as RedisError:
                if case .timeout = redisError {
                    throw .timeout("connecting to \(endpoint) took longer than \(configuration.connectTimeout)")
                }
                throw redisError
            default:
                throw .connection("could not set up connection to \(endpoint): \(error)")
            }
        }
    }

    /// Returns the negotiated RESP version.
    private func handshake(configuration: RedisConfiguration, deadline: NIODeadline) async throws -> Int {
        var version = 2
        if configuration.protocolVersion == .resp3 {
            var hello = RedisCommand("HELLO", "3")
            if let password = configuration.password {
                hello.arguments.append("AUTH")
                hello.arguments.append(configuration.username ?? "default")
                hello.arguments.append(password)
            }
            if let name = configuration.clientName {
                hello.arguments.append("SETNAME")
                hello.arguments.append(name)
            }
            let reply = try await self.sendRaw(hello, deadline: deadline)
            if case .error(let message) = reply {
                // Servers before Redis 6 do not know HELLO, and NOPROTO means no RESP3; anything else
                // (WRONGPASS, NOAUTH, …) is a real failure the caller must see.
                let unknownCommand =
                    message.hasPrefix("ERR unknown command") || message.hasPrefix("ERR Unknown command")
                guard message.hasPrefix("NOPROTO") || unknownCommand else { throw RedisError.server(message) }
            } else {
                version = 3
            }
        }
        if version == 2 {
            if let password = configuration.password {
                let auth =
                    configuration.username.map { RedisCommand("AUTH", $0, password) } ?? RedisCommand("AUTH", password)
                try Self.check(await self.sendRaw(auth, deadline: deadline))
            }
            if let name = configuration.clientName {
                try Self.check(await self.sendRaw(RedisCommand("CLIENT", "SETNAME", name), deadline: deadline))
            }
        }
        if configuration.database != 0 {
            try Self.check(await self.sendRaw(RedisCommand("SELECT", configuration.database), deadline: deadline))
        }
        return version
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
