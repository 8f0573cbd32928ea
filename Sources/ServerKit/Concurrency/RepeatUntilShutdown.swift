import ServiceLifecycle

/// Runs `work` at once and then every `interval`, until the task is cancelled or its service
/// group shuts down gracefully.
///
/// Both ends count: a service group that fails to start (a port already taken) cancels its
/// services instead of shutting them down, and a loop that heeded only the graceful shutdown
/// would find its sleep cut short at once and retry without pause, forever.
package func repeatUntilShutdown(every interval: Duration, _ work: () async -> Void) async {
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
        await work()
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
    }
}
