// Values of core's closed vocabularies that other services act on.

extension Rahat_Core_V1_Beneficiary {
    /// The `verification_status` of a person whose verification was approved: the one status a
    /// disbursement pays and a redemption accepts.
    package static let verifiedStatus = "verified"
}
