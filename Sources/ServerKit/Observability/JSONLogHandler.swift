import Foundation
package import Logging
import Synchronization

/// Writes one JSON object per line to standard output (through ``LogWriter``, so a stalled
/// reader never stalls a request), the shape log shippers (Logstash, Vector,
/// Fluent Bit) ingest without parsing rules: `ts`, `level`, `service`, `logger`, `msg`, then metadata
/// such as `request_id`, `trace_id` and `span_id`.
package struct JSONLogHandler: LogHandler {
    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let service: String

    private let output: LogWriter

    /// A handler writing through `output` (standard output, off the caller's thread, by default).
    package init(
        label: String, service: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil,
        output: LogWriter = .standardOutput
    ) {
        self.output = output
        self.label = label
        self.service = service
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var object: [String: Any] = [
            "ts": Self.timestamp(),
            "level": event.level.rawValue,
            "service": service,
            "logger": label,
            "msg": event.message.description,
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for (key, value) in merged where object[key] == nil {
            object[key] = Self.json(value)
        }
        if event.level >= .error { object["source"] = "\(event.file):\(event.line)" }
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        data.append(0x0A)
        output.write(data)
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let array): array.map(json)
        case .dictionary(let dictionary): dictionary.mapValues(json)
        }
    }

    private static func timestamp() -> String {
        Date().formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

/// Log output settings shared by every process.
package struct LogConfiguration: Sendable, Equatable {
    /// `json` for machines (the default in production), `text` for people at a terminal.
    package enum Format: String, CaseIterable, Sendable {
        case json, text
    }

    package var level: Logger.Level
    package var format: Format

    package init(level: Logger.Level = .info, format: Format = .json) {
        self.level = level
        self.format = format
    }

    /// Reads `RAHAT_LOG_LEVEL` (trace…critical, default info) and `RAHAT_LOG_FORMAT` (json|text;
    /// by default text when standard output is a terminal, where a person reads it, else json).
    package init(from source: inout ConfigurationSource, standardOutputIsTerminal: Bool = isatty(STDOUT_FILENO) == 1) {
        self.level = source.choice("RAHAT_LOG_LEVEL", default: Logger.Level.info)
        self.format = source.choice("RAHAT_LOG_FORMAT", default: standardOutputIsTerminal ? Format.text : Format.json)
    }
}

/// Process-wide logging set-up; call once, before anything logs.
package enum RahatLogging {
    /// Installs the handler for `service` and returns its root logger.
    package static func bootstrap(service: String, configuration: LogConfiguration) -> Logger {
        let level = configuration.level
        switch configuration.format {
        case .json:
            LoggingSystem.bootstrap { label in
                JSONLogHandler(label: label, service: service, level: level, metadataProvider: .rahatRequest)
            }
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardOutput(label: label, metadataProvider: .rahatRequest)
                handler.logLevel = level
                return handler
            }
        }
        var logger = Logger(label: "rahat.\(service)")
        logger.logLevel = level
        return logger
    }
}
