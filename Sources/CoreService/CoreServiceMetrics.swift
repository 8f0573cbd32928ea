package import MetricCatalog

/// The metrics the core service records: its read cache, imports and verification outcomes.
package enum CoreServiceMetrics {
    /// Cache lookups by cache and whether they hit.
    package static let cacheRequests = MetricDefinition.counter(
        "rahat_cache_requests_total", labels: ["cache", "result"],
        help: "Read-cache lookups by cache and result (hit or miss).")
    /// Reads that went to the database because the cache could not be reached.
    package static let cacheFallbacks = MetricDefinition.counter(
        "rahat_cache_fallbacks_total", labels: ["cache"],
        help: "Reads served from the database because the cache store could not be reached, by cache.")
    /// Entries a change could not drop: they may be stale until they expire.
    package static let cacheInvalidationFailures = MetricDefinition.counter(
        "rahat_cache_invalidation_failures_total", labels: ["cache"],
        help: "Cache entries a change could not drop (stale until their time to live ends), by cache.")
    /// Rows of beneficiary imports by what became of them.
    package static let importRows = MetricDefinition.counter(
        "rahat_imports_rows_total", labels: ["outcome"],
        help: "Beneficiary import rows by outcome: created, updated, duplicate or rejected.")
    /// Verification (KYC) runs by their decision.
    package static let verifications = MetricDefinition.counter(
        "rahat_kyc_verifications_total", labels: ["outcome"],
        help: "Beneficiary verification (KYC) decisions by outcome: verified, rejected or needs_review.")

    /// Every metric this target declares.
    package static let all = [cacheRequests, cacheFallbacks, cacheInvalidationFailures, importRows, verifications]
}
