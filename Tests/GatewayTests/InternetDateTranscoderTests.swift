import Foundation
import Testing

@testable import Gateway

/// The API's times are written without Foundation's formatter; they must read exactly as its did.
@Suite("Internet date transcoder")
struct InternetDateTranscoderTests {
    @Test("writes every time as ISO8601DateFormatter does, whole seconds in UTC, and reads what it reads")
    func matchesFoundation() throws {
        let transcoder = InternetDateTranscoder()
        let formatter = ISO8601DateFormatter()
        var generator = SystemRandomNumberGenerator()
        var times: [Double] = [
            0, -1, -0.5, 0.999, 59.9994, 951_782_400, 1_709_164_800, 1_733_468_240.9999, 4_102_444_800,
            253_402_300_799.25, -12_212_553_600, -12_212_553_601, -62_135_596_800, 253_402_300_800, 1e13,
        ]
        for _ in 0..<2_000 {
            // Whole milliseconds, as times read from PostgreSQL and SQLite are written.
            times.append(Double(Int64.random(in: -2_208_988_800_000...4_102_444_800_000, using: &generator)) / 1000)
        }
        for time in times {
            let date = Date(timeIntervalSince1970: time)
            let written = try transcoder.encode(date)
            #expect(written == formatter.string(from: date), "at \(time)")
            #expect(try transcoder.decode(written) == formatter.date(from: written), "reading \(written)")
        }
    }

    @Test("refuses what is not an RFC 3339 time")
    func refusesNonsense() {
        #expect(throws: (any Error).self) { try InternetDateTranscoder().decode("6 December 2026") }
    }
}
