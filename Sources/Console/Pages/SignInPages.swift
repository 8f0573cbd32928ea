import Foundation
import Gateway
import Hummingbird

/// Signing in and out, the account page with its password change, and the language and time
/// zone preferences.
struct SignInPages: Sendable {
    let core: ConsoleCore

    func register(on console: RouterGroup<GatewayRequestContext>) {
        console.get("sign-in") { request, _ in signInForm(request) }
        console.post("sign-in") { _, _ in try await signIn() }
        console.post("sign-out") { _, _ in try await signOut() }
        console.get("account") { _, _ in try await account(problem: nil, fields: nil) }
        console.post("account/password") { _, _ in try await changePassword() }
        console.post("preferences") { _, _ in try await preferences() }
    }

    struct SignInPage: Sendable {
        var email: Field
        var password: Field
        var next: String
        var expired: Bool
        var problem: ProblemView?
        /// Why the user is here again: signed out, or the password was changed.
        var notice: String?
    }

    private func signInFields(email: String = "") -> (Field, Field) {
        let text = core.language
        return (
            Field(
                "email", label: text.text("field_email"), type: "email", value: email, required: true,
                autocomplete: "username"),
            Field(
                "password", label: text.text("field_password"), type: "password", required: true,
                autocomplete: "current-password")
        )
    }

    private func signInForm(_ request: Request) -> Response {
        if Visit.current?.session != nil { return ConsoleCore.redirect(to: "/console") }
        let query = request.uri.queryParameters
        let (email, password) = signInFields()
        var notice: String?
        if query["signed_out"] != nil { notice = core.language.text("signed_out") }
        if query["changed"] != nil { notice = core.language.text("password_changed") }
        let page = SignInPage(
            email: email, password: password, next: query["next"].map(String.init) ?? "",
            expired: query["expired"] != nil, problem: nil, notice: notice)
        return core.renderer.page("sign-in", title: core.language.text("sign_in_title"), page)
    }

    private func signIn() async throws -> Response {
        guard let visit = Visit.current else { throw SignInRequired() }
        let form = visit.form
        let text = core.language
        var (email, password) = signInFields(email: form["email"] ?? "")
        let next = form["next"].flatMap { ConsoleCore.isConsolePath($0) ? $0 : nil } ?? "/console"
        if form["email"] == nil { email.fail(text.text("error_required")) }
        if form.raw("password")?.isEmpty ?? true { password.fail(text.text("error_required")) }
        if email.error != nil || password.error != nil {
            let problem = ProblemView(detail: text.text("error_check_fields"), fields: [email, password])
            return core.renderer.page(
                "sign-in", title: text.text("sign_in_title"),
                SignInPage(email: email, password: password, next: next, expired: false, problem: problem, notice: nil),
                status: .badRequest)
        }
        do {
            let tokens = try await core.api.login(
                body: .json(.init(email: form["email"] ?? "", password: form.raw("password") ?? ""))
            ).ok.body.json
            let me = try await ConsoleCall.$authorization.withValue("Bearer \(tokens.accessToken)") {
                try await core.api.getMe().ok.body.json
            }
            let now = Date()
            visit.begin(
                ConsoleSession(
                    accessToken: tokens.accessToken,
                    accessExpiresAt: now.addingTimeInterval(Double(tokens.expiresIn)),
                    refreshToken: tokens.refreshToken,
                    csrfToken: ConsoleSessions.randomToken(),
                    userID: me.user.id,
                    userName: me.user.name,
                    permissions: me.permissions,
                    signedInAt: now,
                    lastSeenAt: now,
                    locale: me.user.locale,
                    timeZone: me.user.timeZone
                ),
                cookie: ConsoleSessions.randomToken())
            return ConsoleCore.redirect(to: next)
        } catch let error where APIProblem.of(error).map({ [400, 401, 403, 429].contains($0.status) }) ?? false {
            guard let problem = APIProblem.of(error) else { throw error }
            var fields = [email, password]
            var view = ProblemView(problem, fields: &fields)
            if problem.status == 401 { view.detail = text.text("sign_in_refused") }
            if problem.status == 429 { view.detail = text.text("sign_in_throttled") }
            var response = core.renderer.page(
                "sign-in", title: text.text("sign_in_title"),
                SignInPage(
                    email: fields[0], password: fields[1], next: next, expired: false, problem: view, notice: nil),
                status: .init(code: problem.status))
            if let seconds = problem.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
            return response
        }
    }

    private func signOut() async throws -> Response {
        guard let visit = Visit.current, let session = visit.session else {
            return ConsoleCore.redirect(to: "/console/sign-in")
        }
        do {
            _ = try await core.api.logout(body: .json(.init(refreshToken: session.refreshToken)))
        } catch let error where APIProblem.of(error)?.status == 401 {
            // Already revoked (password changed, user disabled): the session ends all the same.
        }
        visit.end()
        return ConsoleCore.redirect(to: "/console/sign-in?signed_out=1")
    }

    struct AccountPage: Sendable {
        var name: String
        var email: String
        var roles: [String]
        var hasRoles: Bool
        var currentPassword: Field
        var password: Field
        var confirmation: Field
        var problem: ProblemView?
        var timeZone: Field
        var back: String
    }

    private func passwordFields() -> [Field] {
        let text = core.language
        return [
            Field(
                "currentPassword", label: text.text("field_current_password"), type: "password", required: true,
                autocomplete: "current-password"),
            Field(
                "password", label: text.text("field_new_password"), type: "password", required: true,
                autocomplete: "new-password", hint: text.text("password_hint")),
            Field(
                "confirmation", label: text.text("field_confirm_password"), type: "password", required: true,
                autocomplete: "new-password"),
        ]
    }

    private func account(problem: ProblemView?, fields: [Field]?) async throws -> Response {
        let session = try core.requireSession()
        let me = try await core.api.getMe().ok.body.json
        let fields = fields ?? passwordFields()
        let zone = Visit.current?.timeZone.identifier ?? core.configuration.defaultTimeZone
        let page = AccountPage(
            name: me.user.name, email: me.user.email,
            roles: me.user.roles.map { role in role.projectId.map { "\(role.role) (\($0))" } ?? role.role },
            hasRoles: !me.user.roles.isEmpty,
            currentPassword: fields[0], password: fields[1], confirmation: fields[2], problem: problem,
            timeZone: .select(
                "timeZone", label: core.language.text("field_time_zone"),
                choices: TimeZone.knownTimeZoneIdentifiers.sorted().map { ($0, $0) }, value: zone),
            back: "/console/account")
        _ = session
        return core.renderer.page(
            "account", title: core.language.text("account_title"), page,
            status: problem == nil ? .ok : .badRequest)
    }

    private func changePassword() async throws -> Response {
        let session = try core.requireSession()
        guard let visit = Visit.current else { throw SignInRequired() }
        let form = visit.form
        let text = core.language
        var fields = passwordFields()
        for index in fields.indices where form.raw(fields[index].name)?.isEmpty ?? true {
            fields[index].fail(text.text("error_required"))
        }
        if fields[2].error == nil, form.raw("password") != form.raw("confirmation") {
            fields[2].fail(text.text("error_passwords_differ"))
        }
        if fields.contains(where: { $0.error != nil }) {
            return try await account(
                problem: ProblemView(detail: text.text("error_check_fields"), fields: fields), fields: fields)
        }
        do {
            _ = try await core.api.updateUser(
                path: .init(id: session.userID),
                body: .json(.init(password: form.raw("password"), currentPassword: form.raw("currentPassword")))
            ).ok
        } catch let error where APIProblem.of(error)?.status == 400 || APIProblem.of(error)?.status == 403 {
            guard let problem = APIProblem.of(error) else { throw error }
            return try await account(problem: ProblemView(problem, fields: &fields), fields: fields)
        }
        // The API revoked every session of the user, this one included.
        visit.end()
        return ConsoleCore.redirect(to: "/console/sign-in?changed=1")
    }

    /// Keeps the language and time zone chosen: with the user when signed in, so that they follow
    /// them to another browser and a shared laptop shows the next user their own; and in this
    /// browser, for its pages before sign-in. Then goes back to the page they were chosen on.
    private func preferences() async throws -> Response {
        guard let visit = Visit.current else { throw SignInRequired() }
        let form = visit.form
        let back = form["back"].flatMap { ConsoleCore.isConsolePath($0) ? $0 : nil } ?? "/console"
        let code = form["language"].flatMap { core.resources.languages[$0] == nil ? nil : $0 }
        let zone = form["timeZone"].flatMap { TimeZone(identifier: $0) == nil ? nil : $0 }
        if let session = visit.session, code != nil || zone != nil {
            do {
                _ = try await core.api.updateUser(
                    path: .init(id: session.userID), body: .json(.init(locale: code, timeZone: zone))
                ).ok
                visit.update { session in
                    if let code { session.locale = code }
                    if let zone { session.timeZone = zone }
                }
            } catch let error where [400, 403].contains(APIProblem.of(error)?.status) {
                visit.flash(.error, APIProblem.of(error)?.detail ?? "")
            }
        }
        var response = ConsoleCore.redirect(to: back)
        let year = 365 * 24 * 3600
        if let code {
            response.setCookie(core.cookie(ConsoleCore.languageCookie, value: code, secure: visit.secure, maxAge: year))
        }
        if let zone {
            response.setCookie(core.cookie(ConsoleCore.timeZoneCookie, value: zone, secure: visit.secure, maxAge: year))
        }
        return response
    }
}
