package import Logging

extension Logger {
    /// A logger for tests: warnings and worse only, so failures stand out.
    package static var test: Logger {
        var logger = Logger(label: "rahat.tests")
        logger.logLevel = .warning
        return logger
    }
}
