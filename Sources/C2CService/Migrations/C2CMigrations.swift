public import FluentKit

/// The project-c2c service's migrations, in the order they apply. Append only; never rename a
/// shipped one.
public enum C2CMigrations {
    public static var all: [any Migration] {
        [CreateProjectFunds()]
    }
}
