import Foundation
import Hummingbird
import NIOCore

/// Server-sent events with a page's progress (an import, a disbursement): the state is read once
/// a second and sent as an event `progress` whenever it changes, until it says it is done (the
/// page then reloads) or five minutes have passed (the browser reconnects with a new request,
/// and with it a fresh look at the session).
enum ProgressStream {
    static let limit = Duration.seconds(300)

    /// The stream of what `poll` reads; it runs as the visit's caller.
    static func response<State: Encodable & Equatable & Sendable>(
        poll: @escaping @Sendable () async throws -> (state: State, done: Bool)
    ) -> Response {
        // The body is written after the page's handler returns: the caller goes with it.
        let authorization = ConsoleCall.authorization
        let body = ResponseBody { writer in
            try await ConsoleCall.$authorization.withValue(authorization) {
                try await writer.write(ByteBuffer(string: "retry: 3000\n\n"))
                let deadline = ContinuousClock.now + limit
                var last: State?
                while ContinuousClock.now < deadline, !Task.isCancelled {
                    let (state, done) = try await poll()
                    if state != last {
                        let data = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
                        try await writer.write(ByteBuffer(string: "event: progress\ndata: \(data)\n\n"))
                        last = state
                    }
                    if done { break }
                    try await Task.sleep(for: .seconds(1))
                }
                try await writer.finish(nil)
            }
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"],
            body: body)
    }
}
