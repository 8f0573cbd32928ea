package import NIOCore

/// A value that can be sent as one argument of a Redis command; it writes itself as a RESP bulk string.
package protocol RESPArgument: Sendable {
    /// Appends `$<length>\r\n<bytes>\r\n` to `buffer`.
    func writeBulkString(into buffer: inout ByteBuffer)
}

extension ByteBuffer {
    /// Writes a non-negative length or count in decimal without going through `String`.
    mutating func writeRESPDecimal(_ value: Int) {
        if value >= 0 && value < 10 {
            self.writeInteger(UInt8(truncatingIfNeeded: 48 + value))
            return
        }
        var magnitude = value.magnitude
        // 20 digits plus a sign is the longest Int64.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 21) { scratch in
            var position = 21
            repeat {
                position -= 1
                scratch[position] = UInt8(truncatingIfNeeded: 48 + magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                position -= 1
                scratch[position] = UInt8(ascii: "-")
            }
            self.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[position...]))
        }
    }

    /// Writes the bulk string header for a payload of `count` bytes.
    mutating func writeBulkHeader(count: Int) {
        self.writeInteger(UInt8(ascii: "$"))
        self.writeRESPDecimal(count)
        self.writeInteger(UInt16(0x0D0A))
    }

    /// Writes the trailing CRLF of a bulk string.
    mutating func writeCRLF() {
        self.writeInteger(UInt16(0x0D0A))
    }
}

extension String: RESPArgument {
    /// Writes the string's UTF-8 bytes.
    package func writeBulkString(into buffer: inout ByteBuffer) {
        buffer.writeBulkHeader(count: self.utf8.count)
        buffer.writeString(self)
        buffer.writeCRLF()
    }
}

extension Substring: RESPArgument {
    /// Writes the substring's UTF-8 bytes.
    package func writeBulkString(into buffer: inout ByteBuffer) {
        buffer.writeBulkHeader(count: self.utf8.count)
        buffer.writeSubstring(self)
        buffer.writeCRLF()
    }
}

extension Int: RESPArgument {
    /// Writes the integer in decimal, as Redis expects numeric arguments.
    package func writeBulkString(into buffer: inout ByteBuffer) {
        let digits = Self.decimalLength(self)
        buffer.writeBulkHeader(count: digits)
        buffer.writeRESPDecimal(self)
        buffer.writeCRLF()
    }
    static func decimalLength(_ value: Int) -> Int {
        var magnitude = value.magnitude
        var count = value < 0 ? 2 : 1
        while magnitude >= 10 {
            magnitude /= 10
            count += 1
        }
        return count
    }
}

extension Int64: RESPArgument {
    /// Writes the integer in decimal.
    package func writeBulkString(into buffer: inout ByteBuffer) {
        Int(self).writeBulkString(into: &buffer)
    }
}

extension Double: RESPArgument {
    /// Writes the shortest decimal that round-trips, with Redis's spelling of the infinities.
    package func writeBulkString(into buffer: inout ByteBuffer) {
        let text: String
        if self == .infinity {
            text = "+inf"
        } else if self == -.infinity {
            text = "-inf"
        } else {
            text = self.description
        }
        text.writeBulkString(into: &buffer)
    }
}

extension ByteBuffer: RESPArgument {
    /// Writes the readable bytes as they are.
    package func writeBulkString(into buffer: inout ByteBuffer) {
        buffer.writeBulkHeader(count: self.readableBytes)
        var copy = self
        buffer.writeBuffer(&copy)
        buffer.writeCRLF()
    }
}

extension Array: RESPArgument where Element == UInt8 {
    /// Writes the bytes as they are.
    package func writeBulkString(into buffer: inout ByteBuffer) {
        buffer.writeBulkHeader(count: self.count)
        buffer.writeBytes(self)
        buffer.writeCRLF()
    }
}

/// One Redis command: its name and arguments, encoded as a RESP array of bulk strings when sent.
package struct RedisCommand: Sendable {
    /// The command name, e.g. `GET`.
    package var name: String
    /// The arguments after the name.
    package var arguments: [any RESPArgument]

    /// Creates a command from a name and variadic arguments.
    package init(_ name: String, _ arguments: any RESPArgument...) {
        self.name = name
        self.arguments = arguments
    }

    /// Creates a command from a name and an argument array.
    package init(_ name: String, arguments: [any RESPArgument]) {
        self.name = name
        self.arguments = arguments
    }

    /// Appends the command as a RESP array of bulk strings.
    package func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        buffer.writeRESPDecimal(self.arguments.count + 1)
        buffer.writeCRLF()
        self.name.writeBulkString(into: &buffer)
        for argument in self.arguments {
            argument.writeBulkString(into: &buffer)
        }
    }
}
