import Foundation
package import Logging
import Metrics
import ServerKit
import ServiceLifecycle
import Synchronization

/// What a worker does for the jobs of one name in one queue.
package struct JobHandler: Sendable {
    package var queue: String
    package var name: String
    /// Runs the job and returns its result (JSON), if it has one. Must be idempotent: an attempt
    /// cut short by a crash runs again. Report progress through the context.
    package var run: @Sendable (JobContext) async throws -> String?
    /// At most this many of the queue's jobs at once in one worker, whatever it is configured
    /// with: for heavy jobs that would otherwise take every database connection of the process.
    package var maxConcurrency: Int?

    package init(
        queue: String, name: String, maxConcurrency: Int? = nil,
        run: @escaping @Sendable (JobContext) async throws -> String?
    ) {
        self.queue = queue
        self.name = name
        self.maxConcurrency = maxConcurrency
        self.run = run
    }
}

/// The job a handler runs, and how it reports progress.
package struct JobContext: Sendable {
    package let job: Job
    let store: any JobStore
    let worker: String

    /// Records how far the job is (0–100) and what it is doing.
    package func progress(_ percent: Int, _ message: String? = nil) async throws {
        guard try await store.reportProgress(job.id, worker: worker, percent: percent, message: message) else {
            throw JobLost()
        }
    }
}

/// Thrown by a handler whose job cannot succeed however often it runs (its input is wrong, what
/// it works on is gone): the job fails at once, without its remaining attempts (BullMQ's
/// `UnrecoverableError`).
package struct UnrecoverableJobError: Error, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}

/// Thrown by a handler that stopped early for its process's shutdown, its work committed so far:
/// the job goes back to its queue without the attempt counting, for another worker to resume.
package struct JobInterrupted: Error, CustomStringConvertible {
    package init() {}

    package var description: String { "the worker is shutting down" }
}

/// The job is no longer this worker's: its lock expired and another worker took it over.
package struct JobLost: Error, CustomStringConvertible {
    package var description: String { "the job's lock expired and another worker took it over" }
}

/// How a worker runs jobs.
package struct JobWorkerConfiguration: Sendable {
    /// Jobs of a queue run at once in one worker process; queues not named run `defaultConcurrency`.
    package var concurrency: [String: Int] = [:]
    package var defaultConcurrency = 4
    /// How long a job stays a worker's without a sign of life; the worker renews it every third
    /// of it, and a job whose worker died is taken over by another after it.
    package var lock: Duration = .seconds(30)
    /// How long an idle queue waits before looking again (work enqueued where the store sees it
    /// wakes it earlier).
    package var idleWait: Duration = .seconds(1)
    /// On shutdown, how long running jobs may take to finish before they are given back.
    package var shutdownGrace: Duration = .seconds(20)

    package init() {}
}

/// Runs jobs from a `JobStore` with the handlers it was given (`rahat serve worker`, and the
/// embedded default's process): per queue up to `concurrency` jobs at once, each with its lock
/// renewed while the handler runs, and its result or error recorded. On graceful shutdown it
/// claims nothing more, lets running jobs finish within `shutdownGrace`, and gives back the rest.
package final class JobWorker: Service, Sendable {
    private let store: any JobStore
    private let handlers: [String: JobHandler]
    private let configuration: JobWorkerConfiguration
    private let logger: Logger
    private let name: String
    private let completed: Counter
    private let failed: Counter

    package init(
        store: any JobStore,
        handlers: [JobHandler],
        configuration: JobWorkerConfiguration = JobWorkerConfiguration(),
        logger: Logger
    ) {
        self.store = store
        var byKey: [String: JobHandler] = [:]
        for handler in handlers { byKey[Self.key(handler.queue, handler.name)] = handler }
        self.handlers = byKey
        self.configuration = configuration
        self.logger = logger
        self.name =
            "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-"
            + UUID().uuidString.prefix(8).lowercased()
        self.completed = Counter(label: "rahat_jobs_completed_total")
        self.failed = Counter(label: "rahat_jobs_failed_total")
    }

    private static func key(_ queue: String, _ name: String) -> String { "\(queue)\u{1F}\(name)" }

    private var queues: [String] { Array(Set(handlers.values.map(\.queue))).sorted() }

    /// One run's shutdown: no more claims, then, after the grace period, give back what runs.
    private final class Shutdown: Sendable {
        let requested = Atomic<Bool>(false)
        let graceOver = WakeSignal()
    }

    package func run() async throws {
        // A process whose services register no handlers yet stays up like the rest of its group.
        guard !queues.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        let shutdown = Shutdown()
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for queue in self.queues {
                    let configured = self.configuration.concurrency[queue] ?? self.configuration.defaultConcurrency
                    let cap = self.handlers.values.filter { $0.queue == queue }.compactMap(\.maxConcurrency).min()
                    let slots = max(1, min(configured, cap ?? configured))
                    group.addTask { await self.dispatch(queue, slots: slots, shutdown: shutdown) }
                }
            }
        } onGracefulShutdown: {
            shutdown.requested.store(true, ordering: .releasing)
            Task {
                try? await Task.sleep(for: self.configuration.shutdownGrace)
                shutdown.graceOver.signal()
            }
        }
    }

    /// How many of a queue's jobs run, and a signal when one ends.
    private final class Running: Sendable {
        let count = Atomic<Int>(0)
        let freed = WakeSignal()
    }

    /// One queue's loop: claims as many jobs as there are free slots, runs each in its own task,
    /// and waits for work when there is none (one waiter per queue, however many slots). Returns
    /// once shutdown was requested and every job it started has ended or been given back.
    private func dispatch(_ queue: String, slots: Int, shutdown: Shutdown) async {
        let running = Running()
        await withDiscardingTaskGroup { group in
            var failures = 0
            while !shutdown.requested.load(ordering: .acquiring) && !Task.isCancelled {
                let free = slots - running.count.load(ordering: .acquiring)
                guard free > 0 else {
                    await running.freed.wait(timeout: configuration.idleWait)
                    continue
                }
                do {
                    // A lease id per claim, so that even another claim of this process that takes over a
                    // job whose lock ran out is told apart from the one that lost it.
                    let lease = "\(name)/\(UUID().uuidString.prefix(8).lowercased())"
                    let jobs = try await store.claim(queue: queue, worker: lease, lock: configuration.lock, limit: free)
                    failures = 0
                    guard !jobs.isEmpty else {
                        await store.waitForWork(queue: queue, timeout: configuration.idleWait)
                        continue
                    }
                    running.count.add(jobs.count, ordering: .acquiringAndReleasing)
                    for job in jobs {
                        group.addTask {
                            await self.execute(job, lease: lease, shutdown: shutdown)
                            running.count.subtract(1, ordering: .acquiringAndReleasing)
                            running.freed.signal()
                        }
                    }
                } catch {
                    failures += 1
                    if failures == 1 {
                        logger.warning(
                            "job queue unavailable; retrying",
                            metadata: ["queue": "\(queue)", "error": "\(String(reflecting: error))"])
                    }
                    try? await Task.sleep(for: .milliseconds(min(100 << min(failures, 6), 5_000)))
                }
            }
        }
    }

    private enum Outcome: Sendable {
        case finished(Result<String?, any Error>)
        case lost
        case shutdown
    }

    /// Runs one claimed job to its end, or gives it back when shutdown's grace runs out.
    private func execute(_ job: Job, lease: String, shutdown: Shutdown) async {
        var metadata: Logger.Metadata = [
            "job.id": "\(job.id)", "job.queue": "\(job.queue)", "job.name": "\(job.name)",
            "job.attempt": "\(job.attempts)",
        ]
        guard job.attempts <= job.maxAttempts else {
            // Its worker stopped answering during the last attempt.
            await record(job, lease: lease, .failure(StalledTooOften(attempts: job.maxAttempts)), metadata: metadata)
            return
        }
        guard let handler = handlers[Self.key(job.queue, job.name)] else {
            await record(job, lease: lease, .failure(NoHandler(name: job.name)), metadata: metadata)
            return
        }
        let context = JobContext(job: job, store: store, worker: lease)
        let outcome = await withTaskGroup(of: Outcome?.self) { group -> Outcome in
            group.addTask {
                do {
                    return .finished(.success(try await handler.run(context)))
                } catch {
                    return .finished(.failure(error))
                }
            }
            group.addTask { await self.keepLock(job.id, lease: lease) ? nil : .lost }
            group.addTask {
                // Passed on once seen, so every job still running sees it. No timeout: a timer per
                // job is a measurable share of a no-op job's cost.
                guard await shutdown.graceOver.wait() else { return nil }
                shutdown.graceOver.signal()
                return .shutdown
            }
            var outcome: Outcome = .lost
            while let next = await group.next() {
                guard let next else { continue }
                outcome = next
                break
            }
            group.cancelAll()
            return outcome
        }
        switch outcome {
        case .finished(.failure) where Task.isCancelled:
            // Cancelled from outside (not a graceful shutdown): the attempt did not fail on its own.
            _ = try? await store.release(job.id, worker: lease)
            logger.notice("job given back: its worker was cancelled", metadata: metadata)
        case .finished(.failure(let error)) where error is JobInterrupted:
            _ = try? await store.release(job.id, worker: lease)
            logger.notice("job paused for shutdown and given back", metadata: metadata)
        case .finished(let result):
            await record(job, lease: lease, result, metadata: metadata)
        case .lost:
            metadata["error"] = "\(JobLost())"
            logger.warning("job lost to another worker", metadata: metadata)
        case .shutdown:
            _ = try? await store.release(job.id, worker: lease)
            logger.notice("job given back at shutdown", metadata: metadata)
        }
    }

    /// Renews the lock until cancelled; false as soon as the job is no longer this worker's.
    /// A lock this worker could not renew for a whole lock time (the store unreachable) may have
    /// passed to another worker: the job counts as lost then, so that it never runs twice at once.
    private func keepLock(_ id: String, lease: String) async -> Bool {
        var renewed = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.lock / 3)
            if Task.isCancelled { return true }
            do {
                guard try await store.extendLock(id, worker: lease, lock: configuration.lock) else { return false }
                renewed = ContinuousClock.now
            } catch {
                if ContinuousClock.now - renewed >= configuration.lock { return false }
            }
        }
        return true
    }

    private func record(
        _ job: Job, lease: String, _ result: Result<String?, any Error>, metadata: Logger.Metadata
    ) async {
        var metadata = metadata
        do {
            switch result {
            case .success(let value):
                _ = try await store.complete(job.id, worker: lease, result: value)
                completed.increment()
                logger.debug("job completed", metadata: metadata)
            case .failure(let error):
                failed.increment()
                metadata["error"] = "\(error)"
                let status = try await store.fail(
                    job.id, worker: lease, error: String(describing: error),
                    retrying: !(error is UnrecoverableJobError))
                if status == .failed {
                    logger.error("job failed for the last time", metadata: metadata)
                } else {
                    logger.warning("job attempt failed; will retry", metadata: metadata)
                }
            }
        } catch {
            metadata["error"] = "\(String(reflecting: error))"
            logger.error("could not record a job's outcome; it runs again once its lock expires", metadata: metadata)
        }
    }
}

/// A job whose worker stopped answering during its last attempt.
struct StalledTooOften: Error, CustomStringConvertible {
    var attempts: Int
    var description: String { "the job's worker stopped answering during its last attempt (\(attempts) attempts)" }
}

/// A job of a name no handler is registered for.
struct NoHandler: Error, CustomStringConvertible {
    var name: String
    var description: String { "no worker handles jobs named '\(name)'" }
}
