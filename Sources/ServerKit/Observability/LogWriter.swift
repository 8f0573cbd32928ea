package import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hands log lines to a thread of its own that writes them to a file descriptor (standard output).
///
/// A log call only appends to a bounded buffer, so a slow or blocked reader of the output — a
/// stalled log shipper, a full pipe — never holds up a request. When the buffer is full, lines are
/// dropped and counted, and once the writer catches up it says how many were lost; serving aid
/// is worth more than any one log line.
package final class LogWriter: Sendable {
    /// What the process's log handlers write through.
    package static let standardOutput = LogWriter(fileDescriptor: STDOUT_FILENO)

    private struct State {
        var lines: [Data] = []
        var bytes = 0
        var dropped = 0
        var writing = false
    }

    private let fileDescriptor: Int32
    private let capacity: Int
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let idle = DispatchSemaphore(value: 0)

    /// A writer to `fileDescriptor` holding at most `capacity` bytes not yet written.
    package init(fileDescriptor: Int32, capacity: Int = 8 << 20) {
        self.fileDescriptor = fileDescriptor
        self.capacity = capacity
        let thread = Thread { [self] in self.run() }
        thread.name = "rahat-log-writer"
        thread.start()
    }

    /// Queues `line` (ending in a newline); drops it if the buffer is full.
    package func write(_ line: Data) {
        let queued = state.withLock { state -> Bool in
            guard state.bytes + line.count <= capacity else {
                state.dropped += 1
                return false
            }
            state.lines.append(line)
            state.bytes += line.count
            return true
        }
        if queued { wake.signal() }
    }

    /// Lines dropped so far because the output did not keep up.
    package var droppedLines: Int { state.withLock { $0.dropped } }

    /// Waits up to `timeout` for what is queued to be written; call before the process exits.
    ///
    /// Answers whether everything was written, so a caller that owns the descriptor knows when
    /// closing it can no longer cut a line short.
    @discardableResult
    package func flush(timeout: Duration = .seconds(2)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let done = state.withLock { $0.lines.isEmpty && !$0.writing }
            if done { return true }
            guard ContinuousClock.now < deadline else { return false }
            wake.signal()
            _ = idle.wait(timeout: .now() + .milliseconds(20))
        }
    }

    private func run() {
        while true {
            wake.wait()
            while true {
                let (lines, dropped) = state.withLock { state -> ([Data], Int) in
                    let taken = (state.lines, state.dropped)
                    state.lines = []
                    state.bytes = 0
                    state.dropped = 0
                    state.writing = !taken.0.isEmpty || taken.1 > 0
                    return taken
                }
                if lines.isEmpty && dropped == 0 { break }
                for line in lines { writeFully(line) }
                if dropped > 0 { writeFully(Self.droppedNotice(dropped)) }
                state.withLock { $0.writing = false }
            }
            idle.signal()
        }
    }

    /// Writes all of `data`, waiting as long as the reader takes; gives up on a closed output.
    private func writeFully(_ data: Data) {
        data.withUnsafeBytes { buffer in
            guard var pointer = buffer.baseAddress else { return }
            var remaining = buffer.count
            while remaining > 0 {
                let written = systemWrite(fileDescriptor, pointer, remaining)
                if written < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return
                }
                pointer += written
                remaining -= written
            }
        }
    }

    private static func droppedNotice(_ count: Int) -> Data {
        let object: [String: Any] = [
            "ts": Date().formatted(.iso8601), "level": "warning", "logger": "rahat.logging",
            "msg": "dropped \(count) log line(s): the log output was not keeping up", "dropped": count,
        ]
        var data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        data.append(0x0A)
        return data
    }
}

/// `write(2)`, named apart from ``LogWriter/write(_:)``.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, buffer, count)
    #else
    Darwin.write(fd, buffer, count)
    #endif
}
