import Foundation
import Gateway
import HTTPTypes
import OpenAPIRuntime

/// A refusal from the API, as its problem document states it: the console shows `detail` and
/// puts each of `errors` next to the field it names.
struct APIProblem: Error, Decodable, Sendable {
    struct Violation: Decodable, Sendable {
        var field: String
        var reason: String
    }

    var status: Int
    var code: String
    var detail: String
    var requestId: String?
    var errors: [Violation]?
    /// From `Retry-After`, not the body.
    var retryAfterSeconds: Int?

    private enum CodingKeys: String, CodingKey {
        case status, code, detail, requestId, errors
    }

    init(status: Int, code: String, detail: String) {
        self.status = status
        self.code = code
        self.detail = detail
    }

    /// The problem `error` carries, however the generated client wrapped it.
    static func of(_ error: any Error) -> APIProblem? {
        if let problem = error as? APIProblem { return problem }
        if let error = error as? ClientError { return of(error.underlyingError) }
        return nil
    }
}

/// The credential calls made while handling a console request act with: the signed-in user's.
enum ConsoleCall {
    @TaskLocal static var authorization: String?
}

/// Sends each call as the console's signed-in user, as a browser calling the API would.
struct CallerMiddleware: ClientMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = ConsoleCall.authorization
        return try await next(request, body, baseURL)
    }
}

/// Turns every answer of 400 or more into an ``APIProblem`` thrown to the page, so pages handle
/// the successful answers and one kind of failure.
struct ProblemMiddleware: ClientMiddleware {
    /// The largest problem document read; the API's are a few hundred bytes.
    private static let limit = 1 << 20

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let (response, responseBody) = try await next(request, body, baseURL)
        guard response.status.code >= 400 else { return (response, responseBody) }
        var problem = APIProblem(status: response.status.code, code: "http.\(response.status.code)", detail: "")
        if let responseBody, let bytes = try? await [UInt8](collecting: responseBody, upTo: Self.limit),
            let decoded = try? JSONDecoder().decode(APIProblem.self, from: Data(bytes))
        {
            problem = decoded
        }
        problem.retryAfterSeconds = response.headerFields[.retryAfter].flatMap { Int($0) }
        throw problem
    }
}

extension Client {
    /// The API as the console calls it: in this process, through the gateway's own middleware.
    static func inProcess(_ api: InProcessAPI) -> Client {
        guard let base = URL(string: "/") else { preconditionFailure("a valid URL") }
        return Client(serverURL: base, transport: api, middlewares: [ProblemMiddleware(), CallerMiddleware()])
    }
}
