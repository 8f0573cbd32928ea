package import GRPCCore
import MetricCatalog
import Metrics
import OTelSemanticConventions
import Synchronization
package import Tracing

/// Traces and times each call a gRPC server handles: a server span continuing the caller's trace
/// (from the `traceparent` in the call's metadata) and `rahat_grpc_server_call_duration_seconds`.
///
/// Listed first among a server's interceptors, so the span covers the rest of them and the
/// handler, and a handler's log lines carry its ids. The span and the timing end when the
/// response (a stream's last message included) has been produced.
package struct ServerObservabilityInterceptor: ServerInterceptor {
    private let tracer: (any Tracer)?

    /// `tracer` is the process's (`InstrumentationSystem.tracer`) unless a test gives one.
    package init(tracer: (any Tracer)? = nil) {
        self.tracer = tracer
    }

    package func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let tracer = self.tracer ?? InstrumentationSystem.tracer
        var parent = ServiceContext.topLevel
        tracer.extract(request.metadata, into: &parent, using: MetadataCarrier())
        let call = ObservedCall(
            descriptor: context.descriptor, kind: .server, tracer: tracer, parent: parent,
            timer: ServerKitMetrics.grpcServerCallDuration)
        let spanContext = call.span.context
        do {
            var response = try await ServiceContext.$current.withValue(spanContext) {
                try await next(request, context)
            }
            switch response.accepted {
            case .success(var contents):
                let producer = contents.producer
                contents.producer = { writer in
                    do {
                        let trailers = try await ServiceContext.$current.withValue(spanContext) {
                            try await producer(writer)
                        }
                        call.finish(nil)
                        return trailers
                    } catch {
                        call.finish(error)
                        throw error
                    }
                }
                response.accepted = .success(contents)
            case .failure(let error):
                call.finish(error)
            }
            return response
        } catch {
            call.finish(error)
            throw error
        }
    }
}

/// Traces and times each call a gRPC client makes: a client span, its context sent in the call's
/// metadata for the server to continue, and `rahat_grpc_client_call_duration_seconds`.
///
/// A call made outside any span is background work (the gateway's revocation poll, a readiness
/// probe): it is sent as the child of a remote parent that chose not to sample, so a parent-based
/// sampler records neither side and polls do not start a trace every half second.
package struct ClientObservabilityInterceptor: ClientInterceptor {
    private let tracer: (any Tracer)?
    private let serverAddress: String?

    /// `serverAddress` is the peer's host as configured (`server.address` on the span).
    package init(serverAddress: String? = nil, tracer: (any Tracer)? = nil) {
        self.tracer = tracer
        self.serverAddress = serverAddress
    }

    package func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>,
        context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        let tracer = self.tracer ?? InstrumentationSystem.tracer
        let call = ObservedCall(
            descriptor: context.descriptor, kind: .client, tracer: tracer,
            parent: ServiceContext.current ?? TraceContext.unsampled(using: tracer),
            timer: ServerKitMetrics.grpcClientCallDuration)
        if let serverAddress { call.span.attributes[OTelAttribute.server.address] = serverAddress }
        var request = request
        tracer.inject(call.span.context, into: &request.metadata, using: MetadataCarrier())
        do {
            var response = try await ServiceContext.$current.withValue(call.span.context) {
                try await next(request, context)
            }
            switch response.accepted {
            case .success(var contents):
                // A response's status arrives after its messages: the call ends when they are read.
                contents.bodyParts = RPCAsyncSequence(
                    wrapping: FinishingSequence(base: contents.bodyParts) { error in call.finish(error) })
                response.accepted = .success(contents)
            case .failure(let error):
                call.finish(error)
            }
            return response
        } catch {
            call.finish(error)
            throw error
        }
    }
}

/// One call's span and timing, ended once however the call ends.
private final class ObservedCall: Sendable {
    let span: any Span
    private let started = ContinuousClock.now
    private let descriptor: MethodDescriptor
    private let timer: MetricDefinition
    private let isClient: Bool
    private let finished = Atomic(false)

    init(
        descriptor: MethodDescriptor, kind: SpanKind, tracer: any Tracer, parent: ServiceContext,
        timer: MetricDefinition
    ) {
        self.descriptor = descriptor
        self.timer = timer
        self.isClient = kind == .client
        // The span name and attributes are the method's, never a message's contents.
        let span = tracer.startSpan(descriptor.fullyQualifiedMethod, context: parent, ofKind: kind)
        span.attributes[OTelAttribute.rpc.system.name] = "grpc"
        span.attributes[OTelAttribute.rpc.method] = descriptor.fullyQualifiedMethod
        self.span = span
    }

    func finish(_ error: (any Error)?) {
        guard finished.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        let code = error.map(Self.code(of:))
        span.attributes[OTelAttribute.rpc.response.statusCode] = code.map(Self.statusName) ?? "OK"
        if let error {
            span.recordError(error)
            // A client saw its call fail, whatever the reason.
            if let code, isClient || Self.isServerFault(code) {
                span.setStatus(SpanStatus(code: .error))
            }
        }
        timer.timer(descriptor.service.fullyQualifiedService, descriptor.method, code.map(Self.label) ?? "ok")
            .record(duration: ContinuousClock.now - started)
        span.end()
    }

    private static func code(of error: any Error) -> RPCError.Code {
        switch error {
        case let error as RPCError: error.code
        case let error as any RPCErrorConvertible: error.rpcErrorCode
        case is CancellationError: .cancelled
        default: .unknown
        }
    }

    /// Server spans are errors only for the server's faults (OpenTelemetry's gRPC conventions):
    /// a caller asking for what does not exist is the caller's business.
    private static func isServerFault(_ code: RPCError.Code) -> Bool {
        switch code {
        case .unknown, .deadlineExceeded, .unimplemented, .internalError, .unavailable, .dataLoss: true
        default: false
        }
    }

    /// The status as OpenTelemetry's `rpc.response.status_code` writes it (`NOT_FOUND`).
    private static func statusName(_ code: RPCError.Code) -> String {
        label(code).uppercased()
    }

    /// The status as the metrics' `code` label writes it (`not_found`).
    static func label(_ code: RPCError.Code) -> String {
        switch code {
        case .cancelled: "cancelled"
        case .unknown: "unknown"
        case .invalidArgument: "invalid_argument"
        case .deadlineExceeded: "deadline_exceeded"
        case .notFound: "not_found"
        case .alreadyExists: "already_exists"
        case .permissionDenied: "permission_denied"
        case .resourceExhausted: "resource_exhausted"
        case .failedPrecondition: "failed_precondition"
        case .aborted: "aborted"
        case .outOfRange: "out_of_range"
        case .unimplemented: "unimplemented"
        case .internalError: "internal_error"
        case .unavailable: "unavailable"
        case .dataLoss: "data_loss"
        case .unauthenticated: "unauthenticated"
        default: "unknown"
        }
    }
}

/// Reads and writes trace context as gRPC metadata.
struct MetadataCarrier: Injector, Extractor {
    func inject(_ value: String, forKey key: String, into carrier: inout Metadata) {
        carrier.replaceOrAddString(value, forKey: key)
    }

    func extract(key: String, from carrier: Metadata) -> String? {
        carrier[stringValues: key].first(where: { _ in true })
    }
}

/// An async sequence that reports once when its base finishes, normally or by throwing.
struct FinishingSequence<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element: Sendable {
    typealias Element = Base.Element

    let base: Base
    let onFinish: @Sendable ((any Error)?) -> Void

    func makeAsyncIterator() -> Iterator {
        Iterator(base: base.makeAsyncIterator(), onFinish: onFinish)
    }

    struct Iterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let onFinish: @Sendable ((any Error)?) -> Void

        mutating func next() async throws -> Element? {
            do {
                guard let element = try await base.next() else {
                    onFinish(nil)
                    return nil
                }
                return element
            } catch {
                onFinish(error)
                throw error
            }
        }
    }
}
