import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import Logging
import ServerKit
import SharedModels

/// What every console page shares: settings, resources, sessions, the API, and the answers that
/// are the same on every page (redirects, refusals, error pages).
struct ConsoleCore: Sendable {
    let configuration: ConsoleConfiguration
    let resources: ConsoleResources
    let renderer: Renderer
    let sessions: ConsoleSessions
    /// Files kept between a dry run and its confirmation.
    let uploads: UploadStash
    let api: Client
    /// Whether `X-Forwarded-Proto` comes from a proxy the gateway trusts.
    let trustForwardedProto: Bool
    let defaultTimeZone: TimeZone
    let logger: Logger

    /// The cookie the sign-in form's token is also sent in, before any session exists.
    static let signInCookie = "rahat-signin"
    /// The browser's chosen language and time zone; not secret.
    static let languageCookie = "rahat-lang"
    static let timeZoneCookie = "rahat-tz"

    /// `__Host-` binds the cookie to this host and path `/`, and browsers only take it over TLS.
    func sessionCookieName(secure: Bool) -> String {
        secure ? "__Host-rahat-session" : "rahat-session"
    }

    func isSecure(_ request: Request) -> Bool {
        switch configuration.secureCookie {
        case .always: true
        case .never: false
        case .auto: trustForwardedProto && request.headers[.forwardedProto]?.lowercased() == "https"
        }
    }

    /// A form must come from a page of this origin. Browsers name the origin of every POST; one
    /// that names none is an old or non-browser client, which the CSRF token still guards.
    func isSameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let url = URL(string: origin), let host = url.host else { return false }
        let authority = url.port.map { "\(host):\($0)" } ?? host
        return authority.lowercased() == request.head.authority?.lowercased()
    }

    /// Whether a posted form carries the token of its session, or before sign-in, of the
    /// sign-in cookie. Compared in constant time.
    func acceptsForm(_ form: FormData, session: ConsoleSession?, signInToken: String?) -> Bool {
        guard let sent = form.raw("_csrf"), let expected = session?.csrfToken ?? signInToken else { return false }
        let a = Array(sent.utf8)
        let b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The signed-in user's choice, else (before sign-in) this browser's, else the browser's
    /// preferred language the console has, else the default. A signed-in user never reads in
    /// another's choice left in a shared browser.
    func language(for request: Request, session: ConsoleSession? = nil) -> Language {
        let chosen = session == nil ? request.cookies[Self.languageCookie]?.value : session?.locale
        if let chosen {
            if let language = resources.languages[chosen] { return language }
            // A regional tag (`en-GB`) reads the language the console has (`en`).
            if let primary = chosen.split(separator: "-").first, let language = resources.languages[String(primary)] {
                return language
            }
        }
        for code in Self.acceptedLanguages(request.headers[.acceptLanguage] ?? "") {
            if let language = resources.languages[code] { return language }
        }
        return resources.languages[configuration.defaultLanguage] ?? resources.english
    }

    /// The signed-in user's choice, else (before sign-in) this browser's, else the installation's.
    func timeZone(for request: Request, session: ConsoleSession? = nil) -> TimeZone {
        let chosen = session == nil ? request.cookies[Self.timeZoneCookie]?.value : session?.timeZone
        return chosen.flatMap(TimeZone.init(identifier:)) ?? defaultTimeZone
    }

    /// The primary subtags of `Accept-Language`, most preferred first.
    static func acceptedLanguages(_ header: String) -> [String] {
        header.split(separator: ",").compactMap { entry -> (String, Double)? in
            let parts = entry.split(separator: ";")
            guard let tag = parts.first?.trimmingCharacters(in: .whitespaces), !tag.isEmpty, tag != "*" else {
                return nil
            }
            var weight = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.trimmingCharacters(in: .whitespaces).split(separator: "=")
                if pair.count == 2, pair[0] == "q", let value = Double(pair[1]) { weight = value }
            }
            let primary = tag.split(separator: "-").first.map { String($0).lowercased() } ?? tag
            return weight > 0 ? (primary, weight) : nil
        }
        .enumerated().sorted { ($0.element.1, -$0.offset) > ($1.element.1, -$1.offset) }.map(\.element.0)
    }

    func cookie(_ name: String, value: String, secure: Bool, maxAge: Int? = nil) -> Cookie {
        Cookie(
            name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// Saves the session if the page changed it, renews an idle one, and sets or clears its cookie.
    func finish(_ visit: Visit, on response: inout Response) async throws {
        let (session, change, changed) = visit.outcome
        let name = sessionCookieName(secure: visit.secure)
        switch change {
        case .set(let cookie):
            if let session { try await sessions.save(session, cookie: cookie) }
            response.setCookie(self.cookie(name, value: cookie, secure: visit.secure))
        case .clear:
            if let old = visit.cookie { try await sessions.end(old) }
            response.setCookie(self.cookie(name, value: "", secure: visit.secure, maxAge: 0))
        case nil:
            guard let cookie = visit.cookie, var session else { return }
            // Renew the idle deadline at most once a minute, not on every request.
            let now = Date()
            if changed || now.timeIntervalSince(session.lastSeenAt) > 60 {
                session.lastSeenAt = now
                try await sessions.save(session, cookie: cookie, now: now)
            }
        }
    }

    /// To the sign-in page, coming back to `target` afterwards.
    func signInRedirect(after target: String?, expired: Bool = false) -> Response {
        if expired { Visit.current?.end() }
        var location = "/console/sign-in"
        if let target, target != "/console", Self.isConsolePath(target),
            let encoded = target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)
        {
            location += "?next=" + encoded
        }
        if expired { location += (location.contains("?") ? "&" : "?") + "expired=1" }
        return Self.redirect(to: location)
    }

    /// Only paths of the console are followed after sign-in, so the link cannot lead elsewhere.
    static func isConsolePath(_ target: String) -> Bool {
        (target == "/console" || target.hasPrefix("/console/")) && !target.contains("//") && !target.contains("\\")
    }

    /// See Other: after a form, the browser asks for the page with GET.
    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// A short page that says why the request was refused.
    func refusal(status: HTTPResponse.Status, key: String, detail: String? = nil) -> Response {
        let language = Visit.current?.language ?? resources.english
        return renderer.page(
            "message", title: language.text(key),
            MessagePage(heading: language.text(key), detail: detail, requestID: nil), status: status)
    }

    /// The page for a failure no page handled itself.
    func errorPage(_ error: any Error, logger: Logger) -> Response {
        let language = Visit.current?.language ?? resources.english
        if error is SignInRequired { return signInRedirect(after: Visit.current?.target) }
        guard let problem = APIProblem.of(error) else {
            logger.error("console page failed", metadata: ["error": "\(String(reflecting: error))"])
            return renderer.page(
                "message", title: language.text("error_internal"),
                MessagePage(heading: language.text("error_internal"), detail: nil, requestID: nil),
                status: .internalServerError)
        }
        switch problem.status {
        case 401:
            return signInRedirect(after: Visit.current?.target, expired: true)
        case 403:
            return refusal(status: .forbidden, key: "error_forbidden", detail: problem.detail)
        case 404:
            return refusal(status: .notFound, key: "error_not_found", detail: problem.detail)
        case 429, 503:
            var response = refusal(
                status: .init(code: problem.status), key: "error_busy", detail: problem.detail)
            if let seconds = problem.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
            return response
        default:
            return renderer.page(
                "message", title: language.text("error_internal"),
                MessagePage(
                    heading: language.text(problem.status >= 500 ? "error_internal" : "error_refused"),
                    detail: problem.detail, requestID: problem.requestId),
                status: .init(code: problem.status))
        }
    }
}

/// A page with a heading and a sentence: refusals, errors.
struct MessagePage: Sendable {
    var heading: String
    var detail: String?
    var requestID: String?
}

extension ConsoleResources {
    /// English, which every installation has (``ConsoleResources/load(from:)`` checks).
    var english: Language {
        guard let english = languages["en"] else { preconditionFailure("English is checked at start-up") }
        return english
    }
}

extension ConsoleCore {
    /// The visit's language.
    var language: Language { Visit.current?.language ?? resources.english }

    /// The signed-in session, or a redirect to sign in that comes back here.
    func requireSession() throws -> ConsoleSession {
        guard let session = Visit.current?.session else { throw SignInRequired() }
        return session
    }

    /// Formats a time for the visit's language and time zone.
    func dateTime(_ date: Date?) -> String {
        guard let date else { return "" }
        return language.dateTime(date, in: Visit.current?.timeZone ?? defaultTimeZone)
    }
}

/// Thrown by a page that needs a session when there is none; answered with the sign-in page.
struct SignInRequired: Error {}

extension ConsoleCore {
    /// Access tokens live minutes; the session's refresh token gets a new pair shortly before
    /// the access token expires, so a page never fails half-way for want of one.
    func refreshTokensIfDue(now: Date = Date()) async throws {
        guard let visit = Visit.current, let session = visit.session,
            session.accessExpiresAt.timeIntervalSince(now) < 60
        else { return }
        let tokens = try await api.refreshToken(body: .json(.init(refreshToken: session.refreshToken))).ok.body.json
        visit.update { session in
            session.accessToken = tokens.accessToken
            session.refreshToken = tokens.refreshToken
            session.accessExpiresAt = now.addingTimeInterval(Double(tokens.expiresIn))
        }
    }
}

extension ConsoleCore {
    /// A select's choices for every case of an API enum, labelled by the messages `<prefix>_<value>`.
    func choices<Value: CaseIterable & RawRepresentable>(
        _ type: Value.Type, prefix: String, any: Bool = false
    ) -> [(value: String, label: String)] where Value.RawValue == String {
        let text = language
        return (any ? [("", text.text("any"))] : [])
            + Value.allCases.map { ($0.rawValue, text.text("\(prefix)_\($0.rawValue)")) }
    }

    /// The label of an API enum value, by the message `<prefix>_<value>`.
    func label<Value: RawRepresentable>(_ value: Value, prefix: String) -> String where Value.RawValue == String {
        language.text("\(prefix)_\(value.rawValue)")
    }

    /// The signed-in caller's permissions: what to offer (the API decides what is allowed).
    var permissions: PermissionSet {
        PermissionSet(parsing: Visit.current?.session?.permissions ?? [])
    }
}

extension ConsoleCore {
    /// nil when the caller may read `subject` in every project; otherwise the projects their
    /// grants name, which lists of it must name one of (the API refuses an unnamed list).
    func projectScope(_ subject: Permission.Subject) -> [String]? {
        let permissions = self.permissions
        if permissions.allows(Permission(subject, .read)) { return nil }
        let projects = permissions.grants.compactMap { grant in
            grant.unscoped.allows(Permission(subject, .read)) ? grant.projectID : nil
        }
        return Array(Set(projects)).sorted()
    }

    /// The `projectId`s to ask a list of `subject` with: none (every project at once), or each of
    /// the first ten projects the caller's grants name.
    func listScopes(_ subject: Permission.Subject) -> [String?] {
        projectScope(subject).map { $0.prefix(10).map { $0 } } ?? [nil]
    }
}

extension ConsoleCore {
    /// Whether the caller is a shop's own login: one that redeems but reads no other vendor.
    var isShopLogin: Bool {
        let permissions = self.permissions
        return !permissions.allowsAnywhere(.vendor, .read) && permissions.allowsAnywhere(.redemption, .create)
    }

    /// The vendor whose login the caller is, for a shop's own login; nil for everyone else.
    func ownVendor() async throws -> Components.Schemas.Vendor? {
        guard isShopLogin else { return nil }
        // The API answers such a login its own vendor only.
        return try await api.listVendors(query: .init(limit: 1)).ok.body.json.items.first
    }

    /// The projects the caller may read, up to 200: those its grants reach, or for a shop's own
    /// login, those its vendor serves (`own`, when the page has read it already).
    func readableProjects(own: Components.Schemas.Vendor? = nil) async throws -> [Components.Schemas.Project] {
        if permissions.allowsAnywhere(.project, .read) {
            return try await api.listProjects(query: .init(limit: 200)).ok.body.json.items
        }
        guard isShopLogin else { return [] }
        let vendor = if let own { own } else { try await ownVendor() }
        guard let vendor else { return [] }
        var projects: [Components.Schemas.Project] = []
        for id in vendor.projectIds {
            projects.append(try await api.getProject(path: .init(id: id)).ok.body.json)
        }
        return projects
    }
}

extension ConsoleCore {
    /// An amount in `project`'s asset and scale; in minor units, said so, when the project is not
    /// one the caller may read.
    func money(_ minorUnits: Int64, asset: String, project: Components.Schemas.Project?) -> String {
        guard let project else { return language.text("minor_units", language.number(minorUnits), asset) }
        return language.money(minorUnits, scale: project.assetScale, asset: asset)
    }
}

/// The project filter of a list: the projects the caller may list it in, and the one shown.
struct ProjectFilter: Sendable {
    var projects: [Components.Schemas.Project]
    /// The project the list is limited to; nil for every project.
    var chosen: Components.Schemas.Project?
    /// Whether the caller reaches some projects only, so that a list must name one.
    var scoped: Bool
    /// The projects a scoped caller's grants name, readable or not.
    var reach: [String] = []

    /// Whether there is a list to show: a scoped caller without projects has none.
    var canList: Bool { !scoped || chosen != nil }

    /// The project to list when the address asked for `asked`: the one chosen among those
    /// offered; else, for a scoped caller who may read none of its projects, the one asked for
    /// among those its grants name, or the first; for anyone else, the one asked for (a project
    /// the caller may list but not read), which the API refuses if it does not exist. Nil for a
    /// scoped caller means there is nothing to list.
    func listed(asked: String?) -> String? {
        if let chosen { return chosen.id }
        guard scoped else { return asked }
        guard projects.isEmpty else { return nil }
        return asked.flatMap { reach.contains($0) ? $0 : nil } ?? reach.first
    }

    /// Whether there is a list to show for `asked` as ``listed(asked:)`` picks its project: a
    /// scoped caller whose grants name no project has none.
    func canList(asked: String?) -> Bool {
        !scoped || listed(asked: asked) != nil
    }

    /// The projects by id.
    var byID: [String: Components.Schemas.Project] {
        Dictionary(projects.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The select that changes it, offering "all projects" to those who may list them all, and
    /// projects by id to a scoped caller who may read none of them (`selected` as ``listed(asked:)``
    /// chose).
    func field(_ text: Language, selected: String? = nil) -> Field {
        let unread = scoped && projects.isEmpty ? reach.map { ($0, $0) } : []
        return .select(
            "projectId", label: text.text("field_project"),
            choices: (scoped ? [] : [("", text.text("all_projects"))]) + projects.map { ($0.id, $0.name) } + unread,
            value: selected ?? chosen?.id ?? "")
    }
}

extension ConsoleCore {
    /// The filter of a list of `subject` with `asked` chosen: a caller reaching some projects only
    /// is shown the first when it asked for none, as the API refuses them an unnamed list.
    /// `readable` are the caller's ``readableProjects(own:)`` when the page has read them already.
    func projectFilter(
        _ subject: Permission.Subject, asked: String?, own: Components.Schemas.Vendor? = nil,
        readable: [Components.Schemas.Project]? = nil
    ) async throws -> ProjectFilter {
        let scope = projectScope(subject)
        let readable = if let readable { readable } else { try await readableProjects(own: own) }
        let projects = readable.filter { scope?.contains($0.id) ?? true }
        let chosen = asked.flatMap { id in projects.first { $0.id == id } }
        return ProjectFilter(
            projects: projects, chosen: chosen ?? (scope == nil ? nil : projects.first), scoped: scope != nil,
            reach: scope ?? [])
    }
}

extension ConsoleCore {
    /// Names of users the caller may look up; "you" for the caller; others keep their id.
    func userNames(_ ids: Set<String>, me session: ConsoleSession) async -> [String: String] {
        let you = language.text("you")
        return await withTaskGroup(of: (String, String?).self) { group in
            for id in ids where id != session.userID {
                group.addTask { (id, try? await api.getUser(path: .init(id: id)).ok.body.json.name) }
            }
            var names = [session.userID: "\(session.userName) (\(you))"]
            for await (id, name) in group {
                // Someone the caller may not look up is named by the end of their id.
                names[id] = name ?? language.text("someone", String(id.suffix(6)))
            }
            return names
        }
    }
}
