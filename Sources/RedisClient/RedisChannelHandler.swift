import NIOCore
import Synchronization

/// A request handed from any thread to a connection's event loop.
enum RedisOutbound: Sendable {
    case single(RedisCommand, NIODeadline, CheckedContinuation<RESPValue, any Error>)
    case batch([RedisCommand], NIODeadline, CheckedContinuation<[RESPValue], any Error>)
    /// Pub/sub commands, whose confirmations arrive as pushes handled by the subscription.
    case unacknowledged([RedisCommand])

    var commandCount: Int {
        switch self {
        case .single: 1
        case .batch(let commands, _, _): commands.count
        case .unacknowledged: 0
        }
    }

    func fail(_ error: RedisError) {
        switch self {
        case .single(_, _, let continuation): continuation.resume(throwing: error)
        case .batch(_, _, let continuation): continuation.resume(throwing: error)
        case .unacknowledged: break
        }
    }
}

/// State shared between callers (any thread) and the channel handler (event loop): a lock-protected outbound queue
/// lets many callers hand commands over with one event-loop hop and one flush per burst instead of one per command.
final class RedisConnectionShared: Sendable {
    struct Queue {
        var items: [RedisOutbound] = []
        var drainScheduled = false
        var closedError: RedisError?
    }

    let queue = Mutex(Queue())
    /// Set once the connection can carry no more commands; the pool reads it to skip dead connections.
    let isClosed = Atomic<Bool>(false)
    /// Commands written or queued but not yet answered; the pool reads it to spread load.
    let inFlight = Atomic<Int>(0)
}

/// Decodes replies and matches them, strictly in order, to the commands written on this channel.
final class RedisChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private final class BatchCollector {
        var values: [RESPValue]
        let expected: Int
        let continuation: CheckedContinuation<[RESPValue], any Error>

        init(expected: Int, continuation: CheckedContinuation<[RESPValue], any Error>) {
            self.values = []
            self.values.reserveCapacity(expected)
            self.expected = expected
            self.continuation = continuation
        }
    }

    private enum Pending {
        case single(CheckedContinuation<RESPValue, any Error>, NIODeadline)
        case batch(BatchCollector, NIODeadline)

        var deadline: NIODeadline {
            switch self {
            case .single(_, let deadline), .batch(_, let deadline): deadline
            }
        }

        func fail(_ error: RedisError) {
            switch self {
            case .single(let continuation, _): continuation.resume(throwing: error)
            case .batch(let collector, _): collector.continuation.resume(throwing: error)
            }
        }
    }

    private let shared: RedisConnectionShared
    private var context: ChannelHandlerContext?
    private var pending = CircularBuffer<Pending>(initialCapacity: 16)
    private var decoder = RESPDecoder()
    private var cumulation: ByteBuffer?
    private var timeoutTask: Scheduled<Void>?
    private var timeoutDeadline = NIODeadline.distantFuture
    private var failure: RedisError?
    private var subscriber: ((Result<RESPValue, RedisError>) -> Void)?

    init(shared: RedisConnectionShared) {
        self.shared = shared
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        let closedError = self.shared.queue.withLock { $0.closedError }
        self.failAll(closedError ?? .connection("connection to the server was lost"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.failAll(.connection("connection failed: \(error)"))
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = Self.unwrapInboundIn(data)
        if var buffer = self.cumulation {
            // Dropping our reference first keeps the storage uniquely owned so the append does not copy.
            self.cumulation = nil
            buffer.writeBuffer(&incoming)
            self.process(&buffer, context: context)
        } else {
            self.process(&incoming, context: context)
        }
    }

    private func process(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        do {
            while let value = try self.decoder.decode(&buffer) {
                self.deliver(value, context: context)
                if self.failure != nil { return }
            }
        } catch {
            self.failAll(error)
            context.close(promise: nil)
            return
        }
        guard buffer.readableBytes > 0 else { return }
        // Under sustained pipelining a read rarely ends on a frame boundary; compacting keeps the buffer from
        // growing without bound.
        if buffer.readerIndex > 65_536 {
            buffer.discardReadBytes()
        }
        self.cumulation = buffer
    }

    private func deliver(_ value: RESPValue, context: ChannelHandlerContext) {
        if let subscriber = self.subscriber {
            subscriber(.success(value))
            return
        }
        if case .push = value {
            // Out-of-band frames (e.g. client-side caching invalidations) answer no command.
            return
        }
        guard let head = self.pending.first else {
            self.failAll(.protocolViolation("received a reply with no command waiting for it"))
            context.close(promise: nil)
            return
        }
        switch head {
        case .single(let continuation, _):
            self.pending.removeFirst()
            self.shared.inFlight.subtract(1, ordering: .relaxed)
            continuation.resume(returning: value)
        case .batch(let collector, _):
            collector.values.append(value)
            self.shared.inFlight.subtract(1, ordering: .relaxed)
            if collector.values.count == collector.expected {
                self.pending.removeFirst()
                collector.continuation.resume(returning: collector.values)
            }
        }
    }

    /// Encodes a burst of requests into one buffer and flushes once.
    func write(_ requests: [RedisOutbound]) {
        guard let context, self.failure == nil else {
            let error = self.failure ?? .connection("connection is not open")
            for request in requests { request.fail(error) }
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 256)
        var earliest: NIODeadline?
        for request in requests {
            switch request {
            case .single(let command, let deadline, let continuation):
                command.encode(into: &buffer)
                self.pending.append(.single(continuation, deadline))
                if earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
            case .batch(let commands, let deadline, let continuation):
                if commands.isEmpty {
                    continuation.resume(returning: [])
                    continue
                }
                for command in commands { command.encode(into: &buffer) }
                self.pending.append(
                    .batch(BatchCollector(expected: commands.count, continuation: continuation), deadline))
                if earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
            case .unacknowledged(let commands):
                for command in commands { command.encode(into: &buffer) }
            }
        }
        context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
        if let earliest { self.armTimeout(context: context, candidate: earliest) }
    }

    /// Routes every decoded value to `handler`; used once a connection becomes a pub/sub subscriber.
    func enterSubscriberMode(_ handler: @escaping (Result<RESPValue, RedisError>) -> Void) {
        self.subscriber = handler
    }

    private func armTimeout(context: ChannelHandlerContext, candidate: NIODeadline) {
        // One timer per connection, aimed at the earliest deadline: a timer per command would cost an allocation
        // per command. Deadlines usually grow with arrival order, so a new command rarely moves the timer.
        if self.timeoutTask != nil, self.timeoutDeadline <= candidate { return }
        self.timeoutTask?.cancel()
        self.timeoutDeadline = candidate
        self.timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(deadline: candidate) {
            self.timeoutFired()
        }
    }

    private func earliestDeadline() -> NIODeadline? {
        var earliest: NIODeadline?
        for entry in self.pending where earliest.map({ entry.deadline < $0 }) ?? true {
            earliest = entry.deadline
        }
        return earliest
    }

    private func timeoutFired() {
        self.timeoutTask = nil
        self.timeoutDeadline = .distantFuture
        guard let context, let earliest = self.earliestDeadline() else { return }
        guard earliest <= .now() else {
            self.armTimeout(context: context, candidate: earliest)
            return
        }
        // Replies are ordered, so once one is overdue every later reply would be matched to the wrong command:
        // the connection cannot be reused.
        self.failAll(.timeout("no reply within the command timeout; connection closed"))
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        if self.failure == nil { self.failure = error }
        self.timeoutTask?.cancel()
        self.timeoutTask = nil
        self.shared.isClosed.store(true, ordering: .releasing)
        let queued = self.shared.queue.withLock { queue -> [RedisOutbound] in
            if queue.closedError == nil { queue.closedError = error }
            defer { queue.items = [] }
            return queue.items
        }
        let failed = self.pending
        self.pending.removeAll()
        var unanswered = 0
        for entry in failed {
            switch entry {
            case .single: unanswered += 1
            case .batch(let collector, _): unanswered += collector.expected - collector.values.count
            }
            entry.fail(error)
        }
        for request in queued {
            unanswered += request.commandCount
            request.fail(error)
        }
        self.shared.inFlight.subtract(unanswered, ordering: .relaxed)
        if let subscriber = self.subscriber {
            self.subscriber = nil
            subscriber(.failure(error))
        }
    }
}
