import Foundation
import ServerKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Logging never waits for whoever reads the log output.
@Suite("Log writer")
struct LogWriterTests {
    @Test("a reader that stops reading stalls no log call; lines past the buffer are dropped and reported")
    func blockedReader() throws {
        // given: a pipe nobody reads yet, whose 64 KiB fill at once
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let writer = LogWriter(fileDescriptor: ends[1], capacity: 64 << 10)
        let line = Data((String(repeating: "x", count: 199) + "\n").utf8)
        // when: far more is logged than the pipe and the buffer hold together
        let started = ContinuousClock.now
        for _ in 0..<5_000 { writer.write(line) }
        let elapsed = ContinuousClock.now - started
        // then: the calls returned at once, and what did not fit was counted
        #expect(elapsed < .seconds(1))
        #expect(writer.droppedLines > 0)
        // and once the reader reads, the queued lines arrive whole, then a notice of the loss
        let reader = FileHandle(fileDescriptor: ends[0], closeOnDealloc: false)
        var received = Data()
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, !String(decoding: received, as: UTF8.self).contains("dropped") {
            received.append(reader.availableData)
        }
        // Drain what was queued after the notice before closing the write end: a writer still
        // holding lines would otherwise write them to whatever pipe next takes that descriptor
        // number, such as the one another test in this suite is reading.
        _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
        var idle = false
        while !idle, ContinuousClock.now < deadline {
            idle = writer.flush(timeout: .milliseconds(20))
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            while case let count = read(ends[0], &chunk, chunk.count), count > 0 {
                received.append(contentsOf: chunk.prefix(count))
            }
        }
        #expect(idle)
        close(ends[1])
        let text = String(decoding: received, as: UTF8.self)
        let lines = text.split(separator: "\n")
        // The read that brought the notice may also bring lines queued after it: check what came
        // before the first notice.
        let notice = try #require(lines.firstIndex { $0.contains("log line(s): the log output was not keeping up") })
        #expect(lines[..<notice].allSatisfy { $0.count == 199 })
        #expect(notice >= (64 << 10) / 200)
    }

    @Test("flush waits for queued lines to be written")
    func flush() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer {
            close(ends[0])
            close(ends[1])
        }
        let writer = LogWriter(fileDescriptor: ends[1])
        for index in 0..<100 { writer.write(Data("line \(index)\n".utf8)) }
        #expect(writer.flush())
        var flags = fcntl(ends[0], F_GETFL)
        flags |= O_NONBLOCK
        _ = fcntl(ends[0], F_SETFL, flags)
        var buffer = [UInt8](repeating: 0, count: 8192)
        let count = read(ends[0], &buffer, buffer.count)
        let text = String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self)
        #expect(text.hasSuffix("line 99\n"))
        #expect(text.split(separator: "\n").count == 100)
    }
}
