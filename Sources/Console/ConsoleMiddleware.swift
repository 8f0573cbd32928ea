import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Runs around every console page: opens the session named by the cookie, refuses forms that do
/// not carry the session's CSRF token or come from another origin, picks the language and time
/// zone, turns failures into pages, saves what changed and stamps the security headers.
struct ConsoleMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let core: ConsoleCore

    /// The largest form body read; uploads (`multipart/form-data`) have their own limit.
    static let maxFormBytes = 64 * 1024

    static func megabytes(_ bytes: Int) -> String {
        String(bytes / (1024 * 1024))
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response: Response
        do {
            response = try await visit(request, context: context, next: next)
        } catch {
            response = core.errorPage(error, logger: context.logger)
        }
        Self.stampSecurityHeaders(on: &response)
        return response
    }

    private func visit(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let secure = core.isSecure(request)
        let cookieValue = request.cookies[core.sessionCookieName(secure: secure)]?.value
        let session = try await cookieValue.asyncFlatMap { try await core.sessions.open($0) }
        let unsafe = request.method == .post
        var form = FormData()
        var files: [String: MultipartForm.File] = [:]
        if unsafe {
            guard core.isSameOrigin(request) else {
                return core.refusal(status: .forbidden, key: "error_cross_origin")
            }
            let contentType = request.headers[.contentType] ?? ""
            if contentType.hasPrefix("application/x-www-form-urlencoded") {
                guard let body = try? await request.body.collect(upTo: Self.maxFormBytes) else {
                    return core.refusal(status: .contentTooLarge, key: "error_form_too_large")
                }
                form = FormData(encoded: Substring(String(buffer: body)))
            } else if contentType.hasPrefix("multipart/form-data") {
                guard let boundary = MultipartForm.boundary(of: contentType) else {
                    return core.refusal(status: .badRequest, key: "error_upload_unreadable")
                }
                let limit = core.configuration.maxUploadBytes
                if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
                    return core.refusal(
                        status: .contentTooLarge, key: "error_upload_too_large",
                        detail: core.language(for: request).text("upload_limit", Self.megabytes(limit)))
                }
                let body: ByteBuffer
                do {
                    body = try await request.body.collect(upTo: limit)
                } catch {
                    return core.refusal(
                        status: .contentTooLarge, key: "error_upload_too_large",
                        detail: core.language(for: request).text("upload_limit", Self.megabytes(limit)))
                }
                guard let multipart = MultipartForm(body: Array(buffer: body), boundary: boundary) else {
                    return core.refusal(status: .badRequest, key: "error_upload_unreadable")
                }
                form = multipart.fields
                files = multipart.files
            }
        }
        var signInToken = request.cookies[ConsoleCore.signInCookie]?.value
        var newSignInToken: String?
        if session == nil, signInToken == nil {
            let token = ConsoleSessions.randomToken()
            signInToken = token
            newSignInToken = token
        }
        let visit = Visit(
            cookie: session == nil ? nil : cookieValue,
            session: session,
            language: core.language(for: request, session: session),
            timeZone: core.timeZone(for: request, session: session),
            form: form,
            files: files,
            secure: secure,
            target: request.uri.description,
            signInToken: session == nil ? signInToken : nil
        )
        if unsafe, !core.acceptsForm(form, session: session, signInToken: signInToken) {
            if session == nil {
                return Visit.$current.withValue(visit) { core.signInRedirect(after: nil, expired: true) }
            }
            return Visit.$current.withValue(visit) {
                core.refusal(status: .forbidden, key: "error_form_expired")
            }
        }
        var response = await Visit.$current.withValue(visit) { () async -> Response in
            do {
                try await core.refreshTokensIfDue()
                let authorization = visit.session.map { "Bearer \($0.accessToken)" }
                return try await ConsoleCall.$authorization.withValue(authorization) {
                    try await next(request, context)
                }
            } catch {
                return core.errorPage(error, logger: context.logger)
            }
        }
        try await core.finish(visit, on: &response)
        if let newSignInToken {
            response.setCookie(core.cookie(ConsoleCore.signInCookie, value: newSignInToken, secure: secure))
        }
        return response
    }

    /// Every console answer, errors included: scripts and styles only from this origin, no inline
    /// script, never inside a frame, nothing kept by shared caches.
    static func stampSecurityHeaders(on response: inout Response) {
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "same-origin"
        response.headers[.crossOriginOpenerPolicy] = "same-origin"
        response.headers[.permissionsPolicy] = "camera=(), microphone=(), geolocation=(), payment=()"
        if response.headers[.cacheControl] == nil {
            // Pages show personal data: on a shared laptop the back button must not bring them back
            // after sign-out.
            response.headers[.cacheControl] = "no-store"
        }
    }
}

extension Optional {
    fileprivate func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = Self.fixed("Content-Security-Policy")
    static let xContentTypeOptions = Self.fixed("X-Content-Type-Options")
    static let xFrameOptions = Self.fixed("X-Frame-Options")
    static let referrerPolicy = Self.fixed("Referrer-Policy")
    static let crossOriginOpenerPolicy = Self.fixed("Cross-Origin-Opener-Policy")
    static let permissionsPolicy = Self.fixed("Permissions-Policy")
    static let forwardedProto = Self.fixed("X-Forwarded-Proto")

    private static func fixed(_ name: String) -> Self {
        guard let field = Self(name) else { preconditionFailure("a valid header name") }
        return field
    }
}
