import Foundation
package import ServerKit

/// Settings of the web console the gateway serves at `/console`.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `RAHAT_CONSOLE` | `true` | serve the console |
/// | `RAHAT_CONSOLE_SESSION_IDLE_MINUTES` | `30` | a session unused for this long is ended (shared laptops) |
/// | `RAHAT_CONSOLE_SESSION_MAX_HOURS` | `12` | a session is ended this long after sign-in, used or not |
/// | `RAHAT_CONSOLE_SECURE_COOKIE` | `auto` | mark the session cookie `Secure`: `always`, `never`, or `auto` (when the request came over TLS: `X-Forwarded-Proto: https` from a proxy the gateway trusts) |
/// | `RAHAT_CONSOLE_TIME_ZONE` | `UTC` | the time zone dates are shown in until a user chooses theirs |
/// | `RAHAT_CONSOLE_LANGUAGE` | `en` | the language shown when neither the user nor the browser names one the console has |
/// | `RAHAT_CONSOLE_MAX_UPLOAD_BYTES` | `16777216` (16 MiB) | the largest file the console takes (an import, a disbursement's amounts); larger imports go through the API, which streams them |
/// | `RAHAT_CONSOLE_RESOURCES` | beside the executable | the directory of the console's templates, languages and assets (`rahat_Console.resources`) |
package struct ConsoleConfiguration: Sendable, Equatable {
    /// When to mark the session cookie `Secure`.
    package enum SecureCookie: String, CaseIterable, Sendable, Equatable {
        case always, never, auto
    }

    package var enabled: Bool
    package var sessionIdle: Duration
    package var sessionMax: Duration
    package var secureCookie: SecureCookie
    package var defaultTimeZone: String
    package var defaultLanguage: String
    /// The resource directory; nil: found beside the executable.
    package var resourcesPath: String?
    /// The largest upload read, in bytes: uploads are read whole before they are passed on.
    package var maxUploadBytes: Int

    package init(
        enabled: Bool = true,
        sessionIdle: Duration = .seconds(30 * 60),
        sessionMax: Duration = .seconds(12 * 3600),
        secureCookie: SecureCookie = .auto,
        defaultTimeZone: String = "UTC",
        defaultLanguage: String = "en",
        resourcesPath: String? = nil,
        maxUploadBytes: Int = 16 * 1024 * 1024
    ) {
        self.maxUploadBytes = maxUploadBytes
        self.enabled = enabled
        self.sessionIdle = sessionIdle
        self.sessionMax = sessionMax
        self.secureCookie = secureCookie
        self.defaultTimeZone = defaultTimeZone
        self.defaultLanguage = defaultLanguage
        self.resourcesPath = resourcesPath
    }

    /// Reads the settings.
    package init(from source: inout ConfigurationSource) {
        let timeZone = source.string("RAHAT_CONSOLE_TIME_ZONE", default: "UTC")
        if TimeZone(identifier: timeZone) == nil {
            source.report("RAHAT_CONSOLE_TIME_ZONE: '\(timeZone)' is not a time zone (e.g. Asia/Kathmandu)")
        }
        self.init(
            enabled: source.bool("RAHAT_CONSOLE", default: true),
            sessionIdle: .seconds(60 * source.int("RAHAT_CONSOLE_SESSION_IDLE_MINUTES", default: 30, in: 1...1440)),
            sessionMax: .seconds(3600 * source.int("RAHAT_CONSOLE_SESSION_MAX_HOURS", default: 12, in: 1...168)),
            secureCookie: source.choice("RAHAT_CONSOLE_SECURE_COOKIE", default: SecureCookie.auto),
            defaultTimeZone: timeZone,
            defaultLanguage: source.string("RAHAT_CONSOLE_LANGUAGE", default: "en"),
            resourcesPath: source.raw("RAHAT_CONSOLE_RESOURCES"),
            maxUploadBytes: source.int(
                "RAHAT_CONSOLE_MAX_UPLOAD_BYTES", default: 16 * 1024 * 1024, in: 65_536...268_435_456)
        )
    }
}
