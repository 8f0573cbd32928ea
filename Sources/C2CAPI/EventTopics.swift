// The topics of project-c2c's events (`Protos/rahat/c2c/v1/events.proto`): producer and
// consumers name a topic through its message type, so neither spells it on its own.

extension Rahat_C2c_V1_FundDisbursed {
    /// One paid batch of a disbursement.
    package static let topic = "rahat.c2c.fund.disbursed"
}

extension Rahat_C2c_V1_DisbursementCompleted {
    /// No line of a disbursement is left pending.
    package static let topic = "rahat.c2c.disbursement.completed"
}

extension Rahat_C2c_V1_SettlementCompleted {
    /// The bank answered a vendor's settlement.
    package static let topic = "rahat.c2c.settlement.completed"
}
