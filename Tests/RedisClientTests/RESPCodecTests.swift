import NIOCore
import RedisClient
import Testing

@Suite struct RESPCodecTests {
    private func decodeAll(_ text: String) throws -> [RESPValue] {
        var decoder = RESPDecoder()
        var buffer = ByteBuffer(string: text)
        var values: [RESPValue] = []
        while let value = try decoder.decode(&buffer) { values.append(value) }
        #expect(buffer.readableBytes == 0)
        return values
    }

    @Test func decodesEveryRESP3Type() throws {
        // given
        let wire =
            "+OK\r\n-ERR bad\r\n:-42\r\n$5\r\nhello\r\n_\r\n*2\r\n:1\r\n$1\r\nx\r\n%1\r\n+k\r\n:7\r\n~2\r\n:1\r\n:2\r\n"
            + ",3.5\r\n,inf\r\n#t\r\n#f\r\n(3492890328409238509324850943850943825024385\r\n=15\r\ntxt:Some string\r\n"
            + ">3\r\n+message\r\n+ch\r\n$2\r\nhi\r\n!9\r\nSYNTAX no\r\n"

        // when
        let values = try self.decodeAll(wire)

        // then
        #expect(
            values == [
                .simpleString("OK"), .error("ERR bad"), .integer(-42), .bulkString(ByteBuffer(string: "hello")), .null,
                .array([.integer(1), .bulkString(ByteBuffer(string: "x"))]),
                .map([RESPMapEntry(key: .simpleString("k"), value: .integer(7))]), .set([.integer(1), .integer(2)]),
                .double(3.5), .double(.infinity), .boolean(true), .boolean(false),
                .bigNumber("3492890328409238509324850943850943825024385"), .verbatimString("Some string"),
                .push([.simpleString("message"), .simpleString("ch"), .bulkString(ByteBuffer(string: "hi"))]),
                .error("SYNTAX no"),
            ]
        )
    }

    @Test func decodesRESP2Nulls() throws {
        #expect(try self.decodeAll("$-1\r\n*-1\r\n_\r\n") == [.null, .null, .null])
    }

    @Test func decodesEmptyAggregatesAndStrings() throws {
        #expect(try self.decodeAll("*0\r\n%0\r\n$0\r\n\r\n") == [.array([]), .map([]), .bulkString(ByteBuffer())])
    }

    @Test func decodesFramesSplitByteByByte() throws {
        // given
        let wire = "*3\r\n$3\r\nfoo\r\n%1\r\n+a\r\n*2\r\n:1\r\n,2.5\r\n|1\r\n+ttl\r\n:3\r\n$3\r\nbar\r\n:99\r\n"
        var decoder = RESPDecoder()
        var pending = ByteBuffer()
        var values: [RESPValue] = []

        // when
        for byte in wire.utf8 {
            pending.writeInteger(byte)
            while let value = try decoder.decode(&pending) { values.append(value) }
        }

        // then
        #expect(
            values == [
                .array([
                    .bulkString(ByteBuffer(string: "foo")),
                    .map([RESPMapEntry(key: .simpleString("a"), value: .array([.integer(1), .double(2.5)]))]),
                    .bulkString(ByteBuffer(string: "bar")),
                ]),
                .integer(99),
            ]
        )
        #expect(decoder.isIdle)
    }

    @Test func skipsAttributesAtTopLevelAndInsideAggregates() throws {
        // given
        let wire = "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:1\r\n|1\r\n+x\r\n+y\r\n:2\r\n"

        // when
        let values = try self.decodeAll(wire)

        // then
        #expect(values == [.array([.integer(1), .integer(2)])])
    }

    @Test func decodesTenMegabyteBulkStringArrivingInChunks() throws {
        // given
        let size = 10 * 1024 * 1024
        var wire = ByteBuffer(string: "$\(size)\r\n")
        wire.writeRepeatingByte(UInt8(ascii: "z"), count: size)
        wire.writeString("\r\n:1\r\n")
        var decoder = RESPDecoder()
        var cumulation = ByteBuffer()
        var values: [RESPValue] = []

        // when
        while let chunk = wire.readSlice(length: min(65_536, wire.readableBytes)), chunk.readableBytes > 0 {
            var chunk = chunk
            cumulation.writeBuffer(&chunk)
            while let value = try decoder.decode(&cumulation) { values.append(value) }
        }

        // then
        #expect(values.count == 2)
        #expect(values.first?.buffer?.readableBytes == size)
        #expect(values.first?.buffer?.readableBytesView.allSatisfy { $0 == UInt8(ascii: "z") } == true)
        #expect(values.last == .integer(1))
    }

    @Test(arguments: ["?foo\r\n", ":abc\r\n", "$-5\r\n", "#x\r\n", "$3\r\nabcde\r\n"])
    func rejectsMalformedInput(_ wire: String) {
        var decoder = RESPDecoder()
        var buffer = ByteBuffer(string: wire)
        #expect(throws: RedisError.self) {
            _ = try decoder.decode(&buffer)
        }
    }

    @Test func encodesCommandAsArrayOfBulkStrings() {
        // given
        let command = RedisCommand(
            "SET", "kéy", 42, -7, 1.5, ByteBuffer(string: "b"), [UInt8(0), 255], Substring("sub"), Int64(9)
        )
        var buffer = ByteBuffer()

        // when
        command.encode(into: &buffer)

        // then
        var expected = ByteBuffer(
            string: "*9\r\n$3\r\nSET\r\n$4\r\nkéy\r\n$2\r\n42\r\n$2\r\n-7\r\n$3\r\n1.5\r\n$1\r\nb\r\n$2\r\n"
        )
        expected.writeBytes([0, 255])
        expected.writeString("\r\n$3\r\nsub\r\n$1\r\n9\r\n")
        #expect(buffer == expected)
    }

    @Test func scriptSHA1IsLowercaseHex() {
        #expect(RedisScript("return 1").sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    }

    @Test func convenienceAccessorsReadBothProtocols() {
        #expect(RESPValue.bulkString(ByteBuffer(string: "12")).int == 12)
        #expect(RESPValue.bulkString(ByteBuffer(string: "-inf")).double == -.infinity)
        #expect(RESPValue.array([.simpleString("a"), .integer(1)]).mapEntries?.first?.value == .integer(1))
        #expect(RESPValue.null.isNull)
        #expect(RESPValue.integer(3).string == "3")
        #expect(RedisError.server("WRONGPASS invalid username-password pair").code == "WRONGPASS")
    }
}

@Suite struct RedisConfigurationURLTests {
    @Test func parsesUserPasswordHostPortAndDatabase() throws {
        let configuration = try RedisConfiguration(url: "redis://al%20ice:p%40ss%3Aword@cache.internal:6380/3")
        #expect(configuration.username == "al ice")
        #expect(configuration.password == "p@ss:word")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.database == 3)
        #expect(!configuration.tls)
    }

    @Test func parsesPasswordOnlyAndDefaults() throws {
        let configuration = try RedisConfiguration(url: "redis://:secret@localhost")
        #expect(configuration.username == nil)
        #expect(configuration.password == "secret")
        #expect(configuration.port == 6379)
        #expect(configuration.database == 0)
        #expect(configuration.poolSize == 8)
        #expect(configuration.commandTimeout == .seconds(2))
    }

    @Test func unencodedSeparatorsInAPasswordStayInThePassword() throws {
        let configuration = try RedisConfiguration(url: "redis://app:s3/cr?t@x@cache.internal:6380/2")
        #expect(configuration.username == "app")
        #expect(configuration.password == "s3/cr?t@x")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.database == 2)
    }

    @Test func parsesTLSAndIPv6() throws {
        let configuration = try RedisConfiguration(url: "rediss://[::1]:7000/")
        #expect(configuration.tls)
        #expect(configuration.host == "::1")
        #expect(configuration.port == 7000)
    }

    @Test(arguments: [
        ("http://localhost", "scheme"), ("redis://localhost:0", "port"), ("redis://localhost:70000", "port"),
        ("redis://localhost:abc", "port"), ("redis://localhost/-1", "database"), ("redis://localhost/x", "database"),
        ("redis://", "host"), ("redis://u:%zz@h", "percent"),
    ])
    func rejectsBadURLs(_ url: String, _ problem: String) {
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("\(url) was accepted")
        } catch {
            guard case .invalidConfiguration(let message) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(message.contains(problem), "\(message)")
        }
    }
}
