import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// One request to the console: the session it belongs to (if any), the language and time zone it
/// is answered in, and the form it sent. Pages reach it as ``Visit/current``.
final class Visit: Sendable {
    @TaskLocal static var current: Visit?

    private struct State {
        var session: ConsoleSession?
        /// The session cookie to set (a new sign-in) or clear (sign-out); nil: leave it.
        var cookieChange: CookieChange?
        var changed = false
    }

    enum CookieChange {
        case set(String)
        case clear
    }

    /// The session cookie the browser sent, when it opened a session.
    let cookie: String?
    let language: Language
    let timeZone: TimeZone
    /// The fields of a posted form; empty for other requests.
    let form: FormData
    /// The files of a posted `multipart/form-data` form, by field name.
    let files: [String: MultipartForm.File]
    /// Whether the request came over TLS, so cookies are marked `Secure`.
    let secure: Bool
    /// The path and query asked for, to come back to after signing in.
    let target: String
    /// Before a session exists, the token the sign-in form must carry (also sent as a cookie).
    let signInToken: String?
    private let state: Mutex<State>

    init(
        cookie: String?, session: ConsoleSession?, language: Language, timeZone: TimeZone, form: FormData,
        files: [String: MultipartForm.File] = [:], secure: Bool, target: String, signInToken: String?
    ) {
        self.files = files
        self.cookie = cookie
        self.signInToken = signInToken
        self.language = language
        self.timeZone = timeZone
        self.form = form
        self.secure = secure
        self.target = target
        self.state = Mutex(State(session: session))
    }

    var session: ConsoleSession? { state.withLock { $0.session } }

    /// Changes the session; it is saved when the request ends.
    func update(_ change: (inout ConsoleSession) -> Void) {
        state.withLock { state in
            guard var session = state.session else { return }
            change(&session)
            state.session = session
            state.changed = true
        }
    }

    /// Starts a new session under a new cookie (after signing in).
    func begin(_ session: ConsoleSession, cookie: String) {
        state.withLock { state in
            state.session = session
            state.cookieChange = .set(cookie)
            state.changed = true
        }
    }

    /// Ends the session: the store forgets it and the browser is told to drop the cookie.
    func end() {
        state.withLock { state in
            state.session = nil
            state.cookieChange = .clear
            state.changed = true
        }
    }

    /// Leaves a message for the next page.
    func flash(_ kind: ConsoleSession.Flash.Kind, _ text: String) {
        update { $0.flash = .init(kind: kind, text: text) }
    }

    /// Takes the message left for this page, if any.
    func takeFlash() -> ConsoleSession.Flash? {
        state.withLock { state in
            guard let flash = state.session?.flash else { return nil }
            state.session?.flash = nil
            state.changed = true
            return flash
        }
    }

    var outcome: (session: ConsoleSession?, cookieChange: CookieChange?, changed: Bool) {
        state.withLock { ($0.session, $0.cookieChange, $0.changed) }
    }
}

/// The fields of an `application/x-www-form-urlencoded` body or a query string.
struct FormData: Sendable {
    private(set) var pairs: [(name: String, value: String)] = []

    init() {}

    init(pairs: [(String, String)]) {
        self.pairs = pairs.map { (name: $0.0, value: $0.1) }
    }

    init(encoded text: Substring) {
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ piece: Substring) -> String {
                let spaced = piece.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            pairs.append((decode(pieces[0]), pieces.count > 1 ? decode(pieces[1]) : ""))
        }
    }

    /// The first value of `name`, trimmed of surrounding white space; nil when absent or blank.
    subscript(_ name: String) -> String? {
        guard let value = pairs.first(where: { $0.name == name })?.value else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The value of `name` exactly as sent (passwords keep their spaces).
    func raw(_ name: String) -> String? {
        pairs.first(where: { $0.name == name })?.value
    }

    /// Every value of `name`, in order (checkboxes, multiple selects).
    func all(_ name: String) -> [String] {
        pairs.filter { $0.name == name }.map(\.value)
    }
}
