public import FluentKit

/// The auth service's migrations, in the order they apply. Append only; never rename a shipped one.
public enum AuthMigrations {
    public static var all: [any Migration] {
        [CreateUsers(), CreateRoles(), CreateSessions(), CreateApiKeys(), CreateRevocations(), SealSigningKeys()]
    }
}
