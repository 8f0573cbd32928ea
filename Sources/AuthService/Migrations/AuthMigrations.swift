package import FluentKit

/// The auth service's migrations, in the order they apply. Append only; never rename a shipped one.
package enum AuthMigrations {
    package static var all: [any Migration] {
        [
            CreateUsers(), CreateRoles(), CreateSessions(), CreateApiKeys(), CreateRevocations(), SealSigningKeys(),
            AddUserPreferences(),
        ]
    }
}
