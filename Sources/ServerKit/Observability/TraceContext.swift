package import Tracing

/// Carries trace context across the boundaries no instrumented transport crosses for us: an
/// outbox row, a job request, an event envelope, a log line.
///
/// Whatever instrument the process bootstrapped does the encoding (OpenTelemetry's writes a W3C
/// `traceparent`), so this type stays free of any one tracing backend. With none bootstrapped
/// (the embedded default) every answer is empty and nothing is stored.
package enum TraceContext {
    /// The W3C header name the outbox column and the event envelope store.
    package static let traceparentKey = "traceparent"

    /// The current span's context as carrier fields (`traceparent`, and `tracestate` when set).
    package static func carrier(_ context: ServiceContext? = .current) -> [String: String] {
        guard let context else { return [:] }
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: DictionaryInjector())
        return carrier
    }

    /// The current span's W3C `traceparent`, or nil when nothing is being traced.
    package static func currentTraceparent() -> String? {
        carrier()[traceparentKey]
    }

    /// The context a stored `traceparent` describes, to continue or link the trace it came from.
    package static func context(traceparent: String?) -> ServiceContext? {
        guard let traceparent, !traceparent.isEmpty else { return nil }
        var context = ServiceContext.topLevel
        InstrumentationSystem.instrument.extract(
            [traceparentKey: traceparent], into: &context, using: DictionaryExtractor())
        // An instrument that found nothing it recognises leaves the context as it was.
        return carrier(context).isEmpty ? nil : context
    }

    /// A context whose parent is a remote span that was not sampled (W3C flags `00`), for work
    /// that should leave no trace: a parent-based sampler drops the spans started under it, here
    /// and in every process the context is sent to. Fresh ids each time, so that a sampler that
    /// ignores the flag still sees separate traces. An instrument that does not read W3C context
    /// finds nothing and the context stays top-level.
    package static func unsampled(
        using instrument: any Instrument = InstrumentationSystem.instrument
    )
        -> ServiceContext
    {
        var context = ServiceContext.topLevel
        // With tracing off nothing reads it, and this runs for every call a poll or probe makes.
        if instrument is NoOpTracer || instrument is NoOpInstrument { return context }
        let traceparent =
            "00-\(hex(.random(in: 1 ... .max)))\(hex(.random(in: 0 ... .max)))-\(hex(.random(in: 1 ... .max)))-00"
        instrument.extract([traceparentKey: traceparent], into: &context, using: DictionaryExtractor())
        return context
    }

    /// Sixteen lower-case hex digits.
    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The trace and span ids of the current span, for log lines: W3C `traceparent` is
    /// `version-traceid-spanid-flags`.
    package static func currentIDs() -> (traceID: Substring, spanID: Substring)? {
        guard let traceparent = currentTraceparent() else { return nil }
        let parts = traceparent.split(separator: "-")
        guard parts.count == 4, parts[1].count == 32, parts[2].count == 16 else { return nil }
        return (parts[1], parts[2])
    }
}

/// Writes carrier fields into a dictionary.
package struct DictionaryInjector: Injector {
    package init() {}

    package func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}

/// Reads carrier fields from a dictionary.
package struct DictionaryExtractor: Extractor {
    package init() {}

    package func extract(key: String, from carrier: [String: String]) -> String? {
        carrier[key]
    }
}
