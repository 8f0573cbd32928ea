import SharedModels
import Testing

@Suite("CSV parser")
struct CSVParserTests {
    /// Parses `text` fed in pieces of `chunk` bytes, so record boundaries fall anywhere.
    static func parse(_ bytes: [UInt8], chunk: Int = 3, limit: Int = 1024) -> [CSVParser.Record] {
        var parser = CSVParser(maxRecordBytes: limit)
        var records: [CSVParser.Record] = []
        var index = 0
        while index < bytes.count {
            records += parser.feed(bytes[index..<min(index + chunk, bytes.count)])
            index += chunk
        }
        return records + parser.finish()
    }

    static func fields(_ records: [CSVParser.Record]) -> [[String]] {
        records.compactMap { try? $0.fields.get() }
    }

    @Test("quotes, escaped quotes, commas and line breaks inside quotes", arguments: [1, 2, 7, 1000])
    func quoting(chunk: Int) {
        let text = "name,note\r\n\"Sita, K\",\"said \"\"hi\"\"\"\r\n\"two\nlines\",x\nlast,\"\""
        let records = Self.parse(Array(text.utf8), chunk: chunk)
        #expect(
            Self.fields(records) == [
                ["name", "note"], ["Sita, K", "said \"hi\""], ["two\nlines", "x"], ["last", ""],
            ])
        #expect(records.map(\.line) == [1, 2, 3, 5])
    }

    @Test("a byte-order mark is dropped, blank lines skipped, bare CR ends a line")
    func lineEnds() {
        let records = Self.parse([0xEF, 0xBB, 0xBF] + Array("a,b\r\rc,d\r\n\n".utf8))
        #expect(Self.fields(records) == [["a", "b"], ["c", "d"]])
        #expect(records.map(\.line) == [1, 3])
    }

    @Test("invalid UTF-8, text after a quote, an overlong record and an unclosed quote are reported per record")
    func problems() {
        let bad: [UInt8] =
            Array("ok,1\n".utf8) + [0x61, 0xC3, 0x28, 0x0A] + Array("\"a\"b,2\nfine,3\n".utf8)
            + Array(String(repeating: "x", count: 40).utf8) + Array("\nafter,4\n\"never closed,5\n".utf8)
        let records = Self.parse(bad, limit: 32)
        #expect(records.map(\.line) == [1, 2, 3, 4, 5, 6, 7])
        #expect(
            records.map(\.fields) == [
                .success(["ok", "1"]), .failure(.invalidUTF8), .failure(.textAfterQuote), .success(["fine", "3"]),
                .failure(.tooLong(limit: 32)), .success(["after", "4"]), .failure(.unterminatedQuote),
            ])
    }

    @Test("an empty file has no records; a lone BOM is not a record")
    func empty() {
        #expect(Self.parse([]).isEmpty)
        #expect(Self.parse([0xEF, 0xBB, 0xBF]).isEmpty)
        #expect(Self.parse([0xEF, 0xBB]).map(\.fields) == [.failure(.invalidUTF8)])
    }
}
