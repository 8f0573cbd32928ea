import Foundation
import GRPCCore
package import JobQueue
package import Logging
import MetricCatalog
import Metrics
import OTelSemanticConventions
import ServerKit
import ServiceLifecycle
import Synchronization
import Tracing

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

    /// The job's JSON payload as `T`. One that does not decode fails the job with `reason` at
    /// once: running it again cannot make it readable.
    package func payload<T: Decodable>(as type: T.Type, otherwise reason: String) throws -> T {
        guard let payload = try? JSONDecoder().decode(type, from: Data(job.payload.utf8)) else {
            throw UnrecoverableJobError(reason)
        }
        return payload
    }

    /// Records how far the job is (0–100) and what it is doing.
    package func progress(_ percent: Int, _ message: String? = nil) async throws {
        guard try await store.reportProgress(job.id, worker: worker, percent: percent, message: message) else {
            throw JobLost()
        }
    }
}

/// An error whose description was written for the people who read a job's record: it is stored
/// as the job's `error` (and shown by `/v1/jobs`). Any other error is stored as a generic line,
/// and its own text — an address, a constraint, a file path — stays in the worker's log.
package protocol JobFailureDescribing: Error, CustomStringConvertible {}

/// Thrown by a handler whose job cannot succeed however often it runs (its input is wrong, what
/// it works on is gone): the job fails at once, without its remaining attempts (BullMQ's
/// `UnrecoverableError`).
package struct UnrecoverableJobError: JobFailureDescribing {
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
    /// How often each queue's backlog is read for the queue gauges.
    package var statisticsInterval: Duration = .seconds(15)

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
            await withDiscardingTaskGroup { measuring in
                measuring.addTask { await self.measureQueues() }
                await withTaskGroup(of: Void.self) { group in
                    for queue in self.queues {
                        let configured = self.configuration.concurrency[queue] ?? self.configuration.defaultConcurrency
                        let cap = self.handlers.values.filter { $0.queue == queue }.compactMap(\.maxConcurrency).min()
                        let slots = max(1, min(configured, cap ?? configured))
                        group.addTask { await self.dispatch(queue, slots: slots, shutdown: shutdown) }
                    }
                }
                measuring.cancelAll()
            }
        } onGracefulShutdown: {
            shutdown.requested.store(true, ordering: .releasing)
            Task {
                try? await Task.sleep(for: self.configuration.shutdownGrace)
                shutdown.graceOver.signal()
            }
        }
    }

    /// A queue's running jobs: how many, a signal when one ends, and each one's lease, renewed for
    /// all of them by one keeper rather than a timer per job.
    private final class Running: Sendable {
        let count = Atomic<Int>(0)
        let freed = WakeSignal()
        /// Set by the lock keeper's tick: claim whatever slots are free, even fewer than half.
        let claimAnyway = Atomic<Bool>(false)
        private let jobs = Mutex<[String: RunningJob]>([:])
        /// Set once shutdown's grace is over: jobs still running, or registered after, are stopped.
        private let stopping = Atomic<Bool>(false)

        /// A run of job `id`. A run of the same job already here lost it (its lock ran out while
        /// the store was unreachable, and this process took it over): it is stopped as lost.
        func register(_ id: String, lease: String) -> RunningJob {
            let job = RunningJob(lease: lease)
            let previous = jobs.withLock { $0.updateValue(job, forKey: id) }
            previous?.stop(.lost)
            if stopping.load(ordering: .acquiring) { job.stop(.shutdown) }
            return job
        }

        /// Forgets run `job` of `id`, and only that run.
        func remove(_ id: String, _ job: RunningJob) {
            jobs.withLock { jobs in
                if jobs[id] === job { jobs[id] = nil }
            }
        }

        /// Lets the dispatcher fill slots that long jobs would otherwise leave idle.
        func nudge() {
            claimAnyway.store(true, ordering: .releasing)
            freed.signal()
        }

        var all: [(id: String, job: RunningJob)] { jobs.withLock { $0.map { ($0.key, $0.value) } } }

        func stopAll() {
            stopping.store(true, ordering: .releasing)
            for (_, job) in all { job.stop(.shutdown) }
        }
    }

    /// Why a running job is stopped before its handler returns.
    private enum Stop: Sendable {
        case lost
        case shutdown
    }

    /// One running job: its lease, when its lock was last renewed, and how it is told to stop.
    private final class RunningJob: Sendable {
        let lease: String
        let renewed = Mutex(ContinuousClock.now)
        private let reason = Mutex<Stop?>(nil)
        private let signal = WakeSignal()

        init(lease: String) { self.lease = lease }

        /// The first reason wins.
        func stop(_ why: Stop) {
            let first = reason.withLock { reason -> Bool in
                guard reason == nil else { return false }
                reason = why
                return true
            }
            if first { signal.signal() }
        }

        /// Why the job was stopped, once it is; nil when the waiting task is cancelled first.
        func stopped() async -> Stop? {
            guard await signal.wait() else { return nil }
            return reason.withLock { $0 }
        }
    }

    /// One queue's loop: claims as many jobs as there are free slots, runs each in its own task,
    /// and waits for work when there is none (one waiter per queue, however many slots). Returns
    /// once shutdown was requested and every job it started has ended or been given back.
    private func dispatch(_ queue: String, slots: Int, shutdown: Shutdown) async {
        let running = Running()
        await withDiscardingTaskGroup { keepers in
            keepers.addTask { await self.keepLocks(of: running) }
            keepers.addTask {
                // Passed on once seen, for the other queues' loops.
                guard await shutdown.graceOver.wait() else { return }
                shutdown.graceOver.signal()
                running.stopAll()
            }
            await self.claimAndRun(queue, slots: slots, running: running, shutdown: shutdown)
            keepers.cancelAll()
        }
    }

    private func claimAndRun(_ queue: String, slots: Int, running: Running, shutdown: Shutdown) async {
        await withDiscardingTaskGroup { group in
            var failures = 0
            while !shutdown.requested.load(ordering: .acquiring) && !Task.isCancelled {
                // Claims wait for half the slots to be free: with short jobs, a claim per job that
                // ends would cost the store a call per job. Slots that long jobs leave idle are
                // filled at the lock keeper's next tick (at most a second).
                let free = slots - running.count.load(ordering: .acquiring)
                let anyway = running.claimAnyway.exchange(false, ordering: .acquiringAndReleasing)
                guard free > 0, free >= max(1, slots / 2) || anyway else {
                    // No timer: a job's end, the keeper's tick or shutdown wakes it.
                    _ = await running.freed.wait()
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
                            await self.execute(job, lease: lease, running: running)
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
    private func execute(_ job: Job, lease: String, running: Running) async {
        var metadata: Logger.Metadata = [
            "job_id": "\(job.id)", "job_queue": "\(job.queue)", "job_name": "\(job.name)",
            "job_attempt": "\(job.attempts)",
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
        let runningJob = running.register(job.id, lease: lease)
        defer { running.remove(job.id, runningJob) }
        MessagingMetrics.jobsWaitDuration.timer(job.queue).record(duration: Self.waited(job))
        let span = Self.startSpan(for: job)
        defer { span.end() }
        let started = ContinuousClock.now
        let outcome = await ServiceContext.$current.withValue(span.context) {
            await self.run(handler, context, stoppedBy: runningJob)
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
            let failed = if case .failure = result { true } else { false }
            MessagingMetrics.jobsRunDuration.timer(job.queue, job.name, failed ? "failed" : "completed")
                .record(duration: ContinuousClock.now - started)
            if case .failure(let error) = result {
                span.recordError(error)
                span.setStatus(SpanStatus(code: .error))
            }
            await record(job, lease: lease, result, metadata: metadata)
        case .lost:
            metadata["error"] = "\(JobLost())"
            logger.warning("job lost to another worker", metadata: metadata)
        case .shutdown:
            _ = try? await store.release(job.id, worker: lease)
            logger.notice("job given back at shutdown", metadata: metadata)
        }
    }

    /// Records each queue's backlog (`rahat_jobs_queued`, `…_oldest_ready_age_seconds`,
    /// `rahat_jobs_dead_letters`) every ``JobWorkerConfiguration/statisticsInterval`` until cancelled.
    /// Every worker of a queue reports the same figures: read them with `max`, not `sum`.
    private func measureQueues() async {
        while !Task.isCancelled {
            for queue in queues {
                do {
                    let statistics = try await store.statistics(queue: queue)
                    MessagingMetrics.jobsQueued.gauge(queue).record(statistics.ready)
                    let age = statistics.oldestReadySince.map { max(0, Date().timeIntervalSince($0)) } ?? 0
                    MessagingMetrics.jobsOldestReadyAge.gauge(queue).record(age)
                    MessagingMetrics.jobsDeadLetters.gauge(queue).record(statistics.deadLetters)
                } catch {
                    logger.debug(
                        "could not read a job queue's backlog", metadata: ["queue": "\(queue)", "error": "\(error)"])
                }
            }
            try? await Task.sleep(for: configuration.statisticsInterval)
        }
    }

    /// Runs the handler until it ends, or until the job is lost or shutdown's grace runs out.
    private func run(_ handler: JobHandler, _ context: JobContext, stoppedBy runningJob: RunningJob) async -> Outcome {
        await withTaskGroup(of: Outcome?.self) { group -> Outcome in
            group.addTask {
                do {
                    return .finished(.success(try await handler.run(context)))
                } catch {
                    return .finished(.failure(error))
                }
            }
            group.addTask {
                switch await runningJob.stopped() {
                case .lost: .lost
                case .shutdown: .shutdown
                case nil: nil
                }
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
    }

    /// How long the job waited for a worker: from when it was due (its enqueueing, or the end of
    /// its delay or back-off) to now.
    private static func waited(_ job: Job) -> Duration {
        .milliseconds(Int64(max(0, Date().timeIntervalSince(job.runAt)) * 1000))
    }

    /// The span of one attempt: a child of the trace that asked for the job, or a new trace
    /// linked to it when the asker fanned out (``JobTrace/Relation/link``).
    private static func startSpan(for job: Job) -> any Span {
        let tracer = InstrumentationSystem.tracer
        let asker = job.trace.flatMap { TraceContext.context(traceparent: $0.traceparent) }
        let linked = job.trace?.relation == .link
        let span = tracer.startSpan(
            "job \(job.name)", context: (linked ? nil : asker) ?? .topLevel, ofKind: .consumer)
        if linked, let asker { span.addLink(SpanLink(context: asker, attributes: [:])) }
        span.attributes[OTelAttribute.messaging.system] = "rahat.jobs"
        span.attributes[OTelAttribute.messaging.operation.type] = "process"
        span.attributes[OTelAttribute.messaging.destination.name] = job.queue
        span.attributes["rahat.job.name"] = job.name
        span.attributes["rahat.job.id"] = job.id
        span.attributes["rahat.job.attempt"] = job.attempts
        return span
    }

    /// Renews the locks of a queue's running jobs every third of the lock time, until cancelled.
    /// A job that is no longer this worker's is stopped as lost; so is one whose lock could not be
    /// renewed for a whole lock time (the store unreachable), since it may have passed to another
    /// worker, so that it never runs twice at once. Ticks at least once a second, nudging the
    /// dispatcher to fill slots that long jobs leave idle.
    private func keepLocks(of running: Running) async {
        let renewEvery = configuration.lock / 3
        var renewed = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: min(renewEvery, .seconds(1)))
            if Task.isCancelled { return }
            running.nudge()
            guard ContinuousClock.now - renewed >= renewEvery else { continue }
            renewed = .now
            await withDiscardingTaskGroup { group in
                for (id, job) in running.all {
                    group.addTask {
                        do {
                            if try await self.store.extendLock(id, worker: job.lease, lock: self.configuration.lock) {
                                job.renewed.withLock { $0 = .now }
                            } else {
                                job.stop(.lost)
                            }
                        } catch {
                            if ContinuousClock.now - job.renewed.withLock({ $0 }) >= self.configuration.lock {
                                job.stop(.lost)
                            }
                        }
                    }
                }
            }
        }
    }

    private func record(
        _ job: Job, lease: String, _ result: Result<String?, any Error>, metadata: Logger.Metadata
    ) async {
        var metadata = metadata
        do {
            switch result {
            case .success(let value):
                _ = try await store.complete(job.id, worker: lease, result: value)
                MessagingMetrics.jobsCompleted.counter(job.queue, job.name).increment()
                logger.debug("job completed", metadata: metadata)
            case .failure(let error):
                MessagingMetrics.jobsFailed.counter(job.queue, job.name).increment()
                metadata["error"] = "\(error)"
                let status = try await store.fail(
                    job.id, worker: lease, error: Self.recordedError(error),
                    retrying: !(error is UnrecoverableJobError))
                if status == .failed {
                    MessagingMetrics.jobsDeadLettered.counter(job.queue, job.name).increment()
                    logger.error("job failed for the last time", metadata: metadata)
                } else if status != nil {
                    MessagingMetrics.jobsRetries.counter(job.queue, job.name).increment()
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

extension JobWorker {
    /// What a failed attempt leaves on the job's record for its owner to read: a service's stable
    /// code and message, a description written for people, or a line that reveals nothing.
    static func recordedError(_ error: any Error) -> String {
        switch error {
        case let error as any JobFailureDescribing:
            return error.description
        case let error as ServiceError where error.kind != .internalError:
            return "\(error.reason): \(error.message)"
        case let error as any ServiceErrorConvertible where error.serviceError.kind != .internalError:
            return "\(error.serviceError.reason): \(error.serviceError.message)"
        case let error as RPCError where error.code != .internalError && error.code != .unknown:
            let service = ServiceError(error)
            return "\(service.reason): \(service.message)"
        default:
            return "job.internal_error: the attempt failed on an internal error; the worker's log has the details"
        }
    }
}
