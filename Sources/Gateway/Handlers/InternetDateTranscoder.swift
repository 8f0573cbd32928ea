import Foundation
import OpenAPIRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 3339 times in whole seconds and UTC (`2026-12-06T06:37:20Z`), as the API has always written
/// them, without Foundation's `ISO8601DateFormatter`.
///
/// Every answer carries a few times, and the formatter goes through ICU behind a lock shared by
/// all requests: a measurable part of a cached read. Reading times from requests is rare and
/// keeps the formatter, so what the API accepts does not change.
struct InternetDateTranscoder: DateTranscoder {
    private let formatter = ISO8601DateTranscoder()

    /// The Gregorian calendar's first full year, up to the last year with four digits: ICU writes
    /// earlier dates in the Julian calendar, so those go to the formatter.
    private static let fastRange: ClosedRange<Double> = -12_212_553_600...253_402_300_799

    func encode(_ date: Date) throws -> String {
        // ICU keeps whole milliseconds and drops the rest of the second: the same here.
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        let seconds = (milliseconds / 1000).rounded(.down)
        guard Self.fastRange.contains(seconds) else { return try formatter.encode(date) }
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return try formatter.encode(date) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        func append(_ value: Int32, digits: Int) {
            var divisor: Int32 = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        append(parts.tm_year + 1900, digits: 4)
        bytes.append(UInt8(ascii: "-"))
        append(parts.tm_mon + 1, digits: 2)
        bytes.append(UInt8(ascii: "-"))
        append(parts.tm_mday, digits: 2)
        bytes.append(UInt8(ascii: "T"))
        append(parts.tm_hour, digits: 2)
        bytes.append(UInt8(ascii: ":"))
        append(parts.tm_min, digits: 2)
        bytes.append(UInt8(ascii: ":"))
        append(parts.tm_sec, digits: 2)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    func decode(_ text: String) throws -> Date {
        try formatter.decode(text)
    }
}
