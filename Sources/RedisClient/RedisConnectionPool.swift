import Logging
import NIOCore
import NIOSSL
import Synchronization

/// A bounded set of connections shared by pipelining, with exclusive leases for MULTI/EXEC, WATCH and blocking
/// commands, lazy growth under load, health checks of idle connections, and reconnection with jittered back-off
/// during which callers fail fast instead of queueing.
///
/// A shared caller counts as a holder of its connection from `acquire` until `release`, so an exclusive lease never
/// takes a connection some caller is about to write to: that caller's command would sit behind a blocking read.
/// An exclusive caller that finds no connection free of holders, and may not open one, reserves the least busy
/// connection: new shared callers go elsewhere and the lease starts once the holders there are done.
final class RedisConnectionPool: Sendable {
    private struct Entry {
        let connection: RedisConnection
        var leased = false
        var checking = false
        /// Shared callers between `acquire` and `release`.
        var holders = 0
        /// The exclusive waiter this connection is set aside for.
        var reservedFor: Int?
        var lastUsed: NIODeadline
    }

    private struct Waiter {
        let id: Int
        let exclusive: Bool
        let continuation: CheckedContinuation<RedisConnection, any Error>
    }

    private struct State {
        var entries: [Entry] = []
        var connecting = 0
        var waiters: [Waiter] = []
        var failure: RedisError?
        var retryAt = NIODeadline.uptimeNanoseconds(0)
        var failedAttempts = 0
        var isShutdown = false
        var nextWaiterID = 0
    }

    private enum Decision {
        case use(RedisConnection, startConnect: Bool)
        case check(RedisConnection, startConnect: Bool)
        case fail(RedisError)
        case wait(startConnect: Bool)
    }

    private typealias Resumption = (
        CheckedContinuation<RedisConnection, any Error>, Result<RedisConnection, RedisError>
    )

    private let configuration: RedisConfiguration
    private let sslContext: NIOSSLContext?
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let state = Mutex(State())
    private let healthCheckInterval: TimeAmount
    private let waitTimeout: TimeAmount

    init(
        configuration: RedisConfiguration,
        sslContext: NIOSSLContext?,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) {
        self.configuration = configuration
        self.sslContext = sslContext
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.healthCheckInterval = .nanoseconds(configuration.healthCheckInterval.nanosecondsClamped)
        self.waitTimeout = .nanoseconds(configuration.poolWaitTimeout.nanosecondsClamped)
    }

    /// A connection to send on: shared with other callers, or leased exclusively until `release`.
    func acquire(exclusive: Bool) async throws -> RedisConnection {
        // A failed health check retries with another connection; the bound keeps a flapping server from looping.
        for _ in 0..<3 {
            let decision = self.state.withLock { self.decide(&$0, exclusive: exclusive, now: .now()) }
            switch decision {
            case .use(let connection, let startConnect):
                if startConnect { self.startConnect() }
                return connection
            case .fail(let error):
                throw error
            case .check(let connection, let startConnect):
                if startConnect { self.startConnect() }
                if let healthy = await self.healthCheck(connection, exclusive: exclusive) { return healthy }
            case .wait(let startConnect):
                if startConnect { self.startConnect() }
                return try await self.wait(exclusive: exclusive)
            }
        }
        throw RedisError.connection("no healthy connection to \(self.configuration.host):\(self.configuration.port)")
    }

    /// Connections open and in use (leased, or carrying a caller's commands), and callers waiting.
    var usage: (open: Int, inUse: Int, waiting: Int) {
        state.withLock { state in
            (state.entries.count, state.entries.count { $0.leased || $0.holders > 0 }, state.waiters.count)
        }
    }

    /// Ends a caller's use of a connection from `acquire(exclusive:)`, with the same `exclusive`.
    func release(_ connection: RedisConnection, exclusive: Bool) {
        let resumptions = self.state.withLock { state -> [Resumption] in
            guard let index = state.entries.firstIndex(where: { $0.connection === connection }) else { return [] }
            if exclusive {
                state.entries[index].leased = false
                state.entries[index].lastUsed = .now()
            } else {
                state.entries[index].holders -= 1
                // Only an exclusive waiter can be waiting for holders to leave.
                guard state.entries[index].holders == 0 else { return [] }
            }
            return self.serveWaiters(&state)
        }
        Self.resume(resumptions)
    }

    /// Closes every connection and fails waiting callers with `.closed`.
    func shutdown() async {
        let (connections, waiters) = self.state.withLock { state -> ([RedisConnection], [Waiter]) in
            state.isShutdown = true
            defer {
                state.entries = []
                state.waiters = []
            }
            return (state.entries.map(\.connection), state.waiters)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: RedisError.closed) }
        for connection in connections { await connection.close(failingPendingWith: .closed) }
    }

    private func decide(
        _ state: inout State, exclusive: Bool, waiter: Int? = nil, now: NIODeadline
    ) -> Decision {
        if state.isShutdown { return .fail(.closed) }
        let canGrow = state.entries.count + state.connecting < self.configuration.poolSize
        let backingOff = state.failure != nil && now < state.retryAt

        if let index = Self.pick(state.entries, exclusive: exclusive, waiter: waiter, canGrow: canGrow) {
            let busy = state.entries[index].connection.inFlight > 0
            let startConnect = !exclusive && busy && canGrow && !backingOff
            if startConnect { state.connecting += 1 }
            Self.take(&state.entries[index], exclusive: exclusive)
            let connection = state.entries[index].connection
            if state.entries[index].lastUsed + self.healthCheckInterval < now {
                state.entries[index].checking = true
                return .check(connection, startConnect: startConnect)
            }
            state.entries[index].lastUsed = now
            return .use(connection, startConnect: startConnect)
        }
        if state.entries.isEmpty, state.connecting == 0, backingOff, let failure = state.failure {
            // The server is known to be down: fail now rather than make every caller wait for a timeout.
            return .fail(failure)
        }
        let exclusiveWaiters = state.waiters.count { $0.exclusive } + (exclusive ? 1 : 0)
        let wanted = max(exclusiveWaiters, 1)
        let startConnect = canGrow && !backingOff && state.connecting < wanted
        if startConnect { state.connecting += 1 }
        return .wait(startConnect: startConnect)
    }

    private static func take(_ entry: inout Entry, exclusive: Bool) {
        if exclusive {
            entry.leased = true
        } else {
            entry.holders += 1
        }
    }

    /// The connection a caller may use now: for a shared caller the least loaded one not leased or reserved; for
    /// an exclusive caller (`waiter` when it is queued) one without holders that is not reserved for another.
    private static func pick(_ entries: [Entry], exclusive: Bool, waiter: Int? = nil, canGrow: Bool) -> Int? {
        var best: Int?
        var bestLoad = Int.max
        for index in entries.indices where !entries[index].leased && !entries[index].checking {
            let entry = entries[index]
            // A connection that just died stays listed until its close callback runs; never hand it out.
            if entry.connection.shared.isClosed.load(ordering: .relaxed) { continue }
            if let reserved = entry.reservedFor, !exclusive || reserved != waiter { continue }
            if exclusive, entry.holders > 0 { continue }
            let load = entry.connection.inFlight
            if load < bestLoad {
                best = index
                bestLoad = load
                if load == 0 { break }
            }
        }
        // An exclusive lease would stall the commands pipelined behind a busy connection's in-flight work less
        // than it stalls a fresh one, but a new connection is better still when the pool may grow.
        if exclusive, bestLoad > 0, canGrow { return nil }
        return best
    }

    /// Sets the least busy connection aside for exclusive waiter `id` when none can be leased now and no new
    /// one is coming, so that a steady stream of shared callers cannot starve the lease.
    private static func reserve(_ state: inout State, for id: Int) {
        guard !state.entries.contains(where: { $0.reservedFor == id }) else { return }
        var best: Int?
        for index in state.entries.indices where !state.entries[index].leased && state.entries[index].reservedFor == nil
        {
            if state.entries[index].connection.shared.isClosed.load(ordering: .relaxed) { continue }
            if best.map({ state.entries[index].holders < state.entries[$0].holders }) ?? true { best = index }
        }
        if let best { state.entries[best].reservedFor = id }
    }

    private static func unreserve(_ state: inout State, for id: Int) {
        for index in state.entries.indices where state.entries[index].reservedFor == id {
            state.entries[index].reservedFor = nil
        }
    }

    private func serveWaiters(_ state: inout State) -> [Resumption] {
        guard !state.waiters.isEmpty else { return [] }
        var resumptions: [Resumption] = []
        var remaining: [Waiter] = []
        let now = NIODeadline.now()
        for waiter in state.waiters {
            guard let index = Self.pick(state.entries, exclusive: waiter.exclusive, waiter: waiter.id, canGrow: false)
            else {
                if waiter.exclusive, state.connecting == 0 { Self.reserve(&state, for: waiter.id) }
                remaining.append(waiter)
                continue
            }
            if waiter.exclusive { Self.unreserve(&state, for: waiter.id) }
            Self.take(&state.entries[index], exclusive: waiter.exclusive)
            state.entries[index].lastUsed = now
            resumptions.append((waiter.continuation, .success(state.entries[index].connection)))
        }
        state.waiters = remaining
        return resumptions
    }

    private static func resume(_ resumptions: [Resumption]) {
        for (continuation, result) in resumptions {
            continuation.resume(with: result.mapError { $0 as any Error })
        }
    }

    private func wait(exclusive: Bool) async throws -> RedisConnection {
        let id = self.state.withLock { state -> Int in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<RedisConnection, any Error>) in
                let decision = self.state.withLock { state -> Decision in
                    // Re-decide under the lock: a connection may have appeared since the first look.
                    let decision = self.decide(&state, exclusive: exclusive, waiter: id, now: .now())
                    if case .wait(let startConnect) = decision {
                        state.waiters.append(Waiter(id: id, exclusive: exclusive, continuation: continuation))
                        if exclusive, !startConnect, state.connecting == 0 { Self.reserve(&state, for: id) }
                    }
                    return decision
                }
                switch decision {
                case .wait(let startConnect):
                    self.eventLoopGroup.any().scheduleTask(in: self.waitTimeout) {
                        self.failWaiter(id, with: .timeout("no Redis connection became available in time"))
                    }
                    if startConnect { self.startConnect() }
                    // Cancelled before it queued: the cancellation handler found nothing to cancel.
                    if Task.isCancelled { self.failWaiter(id, with: nil) }
                case .use(let connection, let startConnect), .check(let connection, let startConnect):
                    // A connection freed up in between; the health check is skipped as it was just in use.
                    if case .check = decision { self.markChecked(connection) }
                    if startConnect { self.startConnect() }
                    continuation.resume(returning: connection)
                case .fail(let error):
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            self.failWaiter(id, with: nil)
        }
    }

    private func failWaiter(_ id: Int, with error: RedisError?) {
        let waiter = self.state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            Self.unreserve(&state, for: id)
            return state.waiters.remove(at: index)
        }
        guard let waiter else { return }
        if let error {
            waiter.continuation.resume(throwing: error)
        } else {
            waiter.continuation.resume(throwing: CancellationError())
        }
    }

    private func markChecked(_ connection: RedisConnection) {
        self.state.withLock { state in
            guard let index = state.entries.firstIndex(where: { $0.connection === connection }) else { return }
            state.entries[index].checking = false
            state.entries[index].lastUsed = .now()
        }
    }

    private func healthCheck(_ connection: RedisConnection, exclusive: Bool) async -> RedisConnection? {
        do {
            try await connection.ping()
        } catch {
            self.logger.info(
                "Closing Redis connection that failed its health check",
                metadata: ["redis_connection": "\(connection.id)", "error": "\(error)"]
            )
            await connection.close(failingPendingWith: .connection("connection failed its health check"))
            return nil
        }
        let resumptions = self.state.withLock { state -> [Resumption] in
            guard let index = state.entries.firstIndex(where: { $0.connection === connection }) else { return [] }
            state.entries[index].checking = false
            state.entries[index].lastUsed = .now()
            return self.serveWaiters(&state)
        }
        Self.resume(resumptions)
        return connection
    }

    private func startConnect() {
        Task { await self.connectOne() }
    }

    private func connectOne() async {
        let endpoint = "\(self.configuration.host):\(self.configuration.port)"
        do {
            let connection = try await RedisConnection.connect(
                configuration: self.configuration,
                sslContext: self.sslContext,
                eventLoop: self.eventLoopGroup.any(),
                logger: self.logger
            )
            let (accepted, recovered, resumptions) = self.state.withLock { state -> (Bool, Bool, [Resumption]) in
                state.connecting -= 1
                guard !state.isShutdown else { return (false, false, []) }
                let recovered = state.failure != nil
                state.failure = nil
                state.failedAttempts = 0
                state.entries.append(Entry(connection: connection, lastUsed: .now()))
                return (true, recovered, self.serveWaiters(&state))
            }
            guard accepted else {
                await connection.close(failingPendingWith: .closed)
                return
            }
            connection.channel.closeFuture.whenComplete { _ in self.connectionClosed(connection) }
            if recovered {
                self.logger.info("Reconnected to Redis", metadata: ["redis_endpoint": "\(endpoint)"])
            }
            Self.resume(resumptions)
        } catch {
            let (attempt, delay, resumptions) = self.state.withLock { state -> (Int, TimeAmount, [Resumption]) in
                state.connecting -= 1
                state.failedAttempts += 1
                let delay = Self.backoff(attempt: state.failedAttempts)
                state.failure = error
                state.retryAt = .now() + delay
                var resumptions = self.serveWaiters(&state)
                if state.entries.isEmpty, state.connecting == 0 {
                    resumptions += state.waiters.map { ($0.continuation, .failure(error)) }
                    state.waiters = []
                }
                return (state.failedAttempts, delay, resumptions)
            }
            Self.resume(resumptions)
            let metadata: Logger.Metadata = [
                "redis_endpoint": "\(endpoint)", "error": "\(error)", "attempt": "\(attempt)",
                "retry_in_ms": "\(delay.nanoseconds / 1_000_000)",
            ]
            if attempt == 1 {
                self.logger.warning(
                    "Could not connect to Redis; failing fast and retrying with back-off", metadata: metadata)
            } else {
                self.logger.debug("Redis reconnect attempt failed", metadata: metadata)
            }
        }
    }

    private func connectionClosed(_ connection: RedisConnection) {
        let (wasPooled, startConnect, resumptions) = self.state.withLock { state -> (Bool, Bool, [Resumption]) in
            guard let index = state.entries.firstIndex(where: { $0.connection === connection }) else {
                return (false, false, [])
            }
            state.entries.remove(at: index)
            guard !state.isShutdown else { return (false, false, []) }
            var resumptions = self.serveWaiters(&state)
            guard !state.waiters.isEmpty else { return (true, false, resumptions) }
            // Callers may be waiting because the dead connection still filled the last slot: replace it now.
            let canGrow = state.entries.count + state.connecting < self.configuration.poolSize
            let backingOff = state.failure != nil && NIODeadline.now() < state.retryAt
            if canGrow, !backingOff, state.connecting == 0 {
                state.connecting += 1
                return (true, true, resumptions)
            }
            if state.entries.isEmpty, state.connecting == 0, let failure = state.failure {
                resumptions += state.waiters.map { ($0.continuation, .failure(failure)) }
                state.waiters = []
            }
            return (true, false, resumptions)
        }
        Self.resume(resumptions)
        if startConnect { self.startConnect() }
        guard wasPooled else { return }
        let reason = connection.shared.queue.withLock { $0.closedError }
        self.logger.warning(
            "Redis connection closed",
            metadata: ["redis_connection": "\(connection.id)", "reason": "\(reason.map { "\($0)" } ?? "unknown")"]
        )
    }

    /// 50 ms doubling to 2 s, with jitter so that many clients do not reconnect in lockstep.
    static func backoff(attempt: Int) -> TimeAmount {
        let exponent = min(max(attempt - 1, 0), 6)
        let ceiling = min(50_000_000 << exponent, 2_000_000_000)
        let jittered = Int64.random(in: Int64(ceiling / 2)...Int64(ceiling))
        return .nanoseconds(jittered)
    }
}
