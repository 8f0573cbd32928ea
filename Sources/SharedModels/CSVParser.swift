/// An incremental RFC 4180 CSV parser: bytes go in as they arrive, complete records come out, so a
/// file of any size is read in constant memory.
///
/// Accepts a UTF-8 byte-order mark, `\r\n`, `\n` or `\r` line ends, quoted fields with `""`
/// escapes and line breaks inside quotes. Blank lines are skipped. A record that is not valid
/// UTF-8, or that grows past `maxRecordBytes` (typically an unterminated quote), is reported as a
/// bad record and parsing continues with the next line.
package struct CSVParser: Sendable {
    /// One parsed line: its 1-based line number in the file, and its fields or why it is unusable.
    package struct Record: Sendable, Equatable {
        package var line: Int
        package var fields: Result<[String], Problem>

        package init(line: Int, fields: Result<[String], Problem>) {
            self.line = line
            self.fields = fields
        }
    }

    /// Why a record could not be read.
    package enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case invalidUTF8
        case tooLong(limit: Int)
        case unterminatedQuote
        case textAfterQuote

        package var description: String {
            switch self {
            case .invalidUTF8: "is not valid UTF-8 text"
            case .tooLong(let limit): "is longer than \(limit) bytes (an unterminated quote?)"
            case .unterminatedQuote: "has a quote that is never closed"
            case .textAfterQuote: "has text after a closing quote"
            }
        }
    }

    private enum State: Sendable {
        case fieldStart, unquoted, quoted, quoteInQuoted, afterCR
        /// Skipping the rest of a record already judged bad.
        case discarding(inQuotes: Bool)
    }

    package let maxRecordBytes: Int
    private var state = State.fieldStart
    private var field: [UInt8] = []
    private var fields: [[UInt8]] = []
    private var recordBytes = 0
    private var line = 1
    private var recordLine = 1
    private var atFileStart = true
    private var bomBytesSeen = 0
    private var problem: Problem?
    private var previous: UInt8 = 0

    package init(maxRecordBytes: Int = 64 * 1024) {
        self.maxRecordBytes = maxRecordBytes
    }

    /// Parses `bytes`, returning the records they complete.
    package mutating func feed(_ bytes: some Sequence<UInt8>) -> [Record] {
        var records: [Record] = []
        for byte in bytes {
            if atFileStart {
                // A UTF-8 byte-order mark (EF BB BF) is dropped; anything else starts the file.
                let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
                if byte == bom[bomBytesSeen] {
                    bomBytesSeen += 1
                    if bomBytesSeen == 3 { atFileStart = false }
                    continue
                }
                atFileStart = false
                for held in bom.prefix(bomBytesSeen) { consume(held, into: &records) }
            }
            consume(byte, into: &records)
        }
        return records
    }

    /// Ends the input, returning the last record if the file did not end with a line break.
    package mutating func finish() -> [Record] {
        var records: [Record] = []
        if atFileStart {
            atFileStart = false
            for held in [UInt8]([0xEF, 0xBB, 0xBF]).prefix(bomBytesSeen) { consume(held, into: &records) }
        }
        switch state {
        case .quoted:
            problem = problem ?? .unterminatedQuote
            endRecord(into: &records)
        case .discarding(let inQuotes):
            if inQuotes { problem = problem ?? .unterminatedQuote }
            endRecord(into: &records)
        case .fieldStart where fields.isEmpty && field.isEmpty:
            break
        case .afterCR:
            break
        default:
            endRecord(into: &records)
        }
        state = .fieldStart
        return records
    }

    private mutating func consume(_ byte: UInt8, into records: inout [Record]) {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        if case .afterCR = state {
            state = .fieldStart
            if byte == lf {
                previous = byte
                return
            }
        }
        // A line break is CR, LF or CR LF, in quotes too.
        if byte == cr || (byte == lf && previous != cr) {
            line += 1
        }
        previous = byte
        do {
            // Line breaks count too: a quoted field of nothing but line breaks is still bounded.
            recordBytes += 1
            if recordBytes > maxRecordBytes, problem == nil {
                problem = .tooLong(limit: maxRecordBytes)
                if case .quoted = state {
                    state = .discarding(inQuotes: true)
                } else {
                    state = .discarding(inQuotes: false)
                }
                field = []
                fields = []
            }
        }
        switch state {
        case .discarding(let inQuotes):
            if byte == quote {
                state = .discarding(inQuotes: !inQuotes)
            } else if !inQuotes && (byte == lf || byte == cr) {
                endRecord(into: &records)
                state = byte == cr ? .afterCR : .fieldStart
            }
        case .fieldStart:
            if byte == quote {
                state = .quoted
            } else if byte == comma {
                fields.append(field)
                field = []
            } else if byte == lf || byte == cr {
                endRecord(into: &records)
                if byte == cr { state = .afterCR }
            } else {
                field.append(byte)
                state = .unquoted
            }
        case .unquoted:
            if byte == comma {
                fields.append(field)
                field = []
                state = .fieldStart
            } else if byte == lf || byte == cr {
                endRecord(into: &records)
                state = byte == cr ? .afterCR : .fieldStart
            } else {
                field.append(byte)
            }
        case .quoted:
            if byte == quote {
                state = .quoteInQuoted
            } else {
                field.append(byte)
            }
        case .quoteInQuoted:
            if byte == quote {
                field.append(quote)
                state = .quoted
            } else if byte == comma {
                fields.append(field)
                field = []
                state = .fieldStart
            } else if byte == lf || byte == cr {
                endRecord(into: &records)
                state = byte == cr ? .afterCR : .fieldStart
            } else {
                problem = problem ?? .textAfterQuote
                state = .discarding(inQuotes: false)
            }
        case .afterCR:
            break
        }
    }

    private mutating func endRecord(into records: inout [Record]) {
        defer {
            field = []
            fields = []
            recordBytes = 0
            problem = nil
            recordLine = line
        }
        if let problem {
            records.append(Record(line: recordLine, fields: .failure(problem)))
            return
        }
        fields.append(field)
        // A blank line is not a record.
        if fields.count == 1 && fields[0].isEmpty { return }
        var decoded: [String] = []
        decoded.reserveCapacity(fields.count)
        for bytes in fields {
            guard let text = String(validating: bytes, as: UTF8.self) else {
                records.append(Record(line: recordLine, fields: .failure(.invalidUTF8)))
                return
            }
            decoded.append(text)
        }
        records.append(Record(line: recordLine, fields: .success(decoded)))
    }
}
