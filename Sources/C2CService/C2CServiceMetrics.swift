package import MetricCatalog

/// The money-flow metrics of project-c2c: funding, disbursement, redemption and settlement.
///
/// Amounts are integer minor units of the project's asset (`asset`: a currency or voucher code,
/// a small set per deployment); outcomes are fixed words. Counted after the change committed.
package enum C2CServiceMetrics {
    /// Value credited to projects' funds.
    package static let fundingValue = MetricDefinition.counter(
        "rahat_funding_value_minor_units_total", labels: ["asset"],
        help: "Value funded into projects, in minor units of the asset.")
    /// Disbursements reaching a decision or an end.
    package static let disbursements = MetricDefinition.counter(
        "rahat_disbursements_total", labels: ["outcome"],
        help: "Disbursements by outcome: approved, completed, partially_failed or cancelled.")
    /// Lines paid to beneficiaries.
    package static let linesPaid = MetricDefinition.counter(
        "rahat_disbursement_lines_paid_total", labels: ["asset"],
        help: "Disbursement lines paid to beneficiaries' wallets, by asset.")
    /// Lines that failed (refused by the ledger, or given up on).
    package static let linesFailed = MetricDefinition.counter(
        "rahat_disbursement_lines_failed_total", labels: ["asset"],
        help: "Disbursement lines that failed (they can be retried), by asset.")
    /// Value paid to beneficiaries.
    package static let disbursedValue = MetricDefinition.counter(
        "rahat_disbursement_value_minor_units_total", labels: ["asset"],
        help: "Value paid out to beneficiaries by disbursements, in minor units of the asset.")
    /// Redemptions by what became of them.
    package static let redemptions = MetricDefinition.counter(
        "rahat_redemptions_total", labels: ["outcome"],
        help: "Redemptions by outcome: requested, confirmed or failed.")
    /// Value vendors redeemed from beneficiaries.
    package static let redeemedValue = MetricDefinition.counter(
        "rahat_redemption_value_minor_units_total", labels: ["asset"],
        help: "Value redeemed by vendors (confirmed redemptions), in minor units of the asset.")
    /// Confirmations refused because the vendor entered too many wrong codes: alert on any.
    package static let vendorCodeRefusals = MetricDefinition.counter(
        "rahat_redemption_vendor_code_refusals_total",
        help: "Redemption confirmations refused because the vendor entered too many wrong codes.")
    /// Settlements by what became of them.
    package static let settlements = MetricDefinition.counter(
        "rahat_settlements_total", labels: ["outcome"],
        help: "Vendor settlements by outcome: requested, paid or failed.")
    /// Value settled to vendors.
    package static let settledValue = MetricDefinition.counter(
        "rahat_settlement_value_minor_units_total", labels: ["asset"],
        help: "Value paid to vendors by settlements, in minor units of the asset.")

    /// Every metric this target declares.
    package static let all = [
        fundingValue, disbursements, linesPaid, linesFailed, disbursedValue, redemptions, redeemedValue,
        vendorCodeRefusals, settlements, settledValue,
    ]
}
