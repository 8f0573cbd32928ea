// The topics of the core service's events (`Protos/rahat/core/v1/events.proto`): producer and
// consumers name a topic through its message type, so neither spells it on its own.

extension Rahat_Core_V1_ProjectChanged {
    package static let created = "rahat.core.project.created"
    package static let updated = "rahat.core.project.updated"
    package static let activated = "rahat.core.project.activated"
    package static let closed = "rahat.core.project.closed"
}

extension Rahat_Core_V1_BeneficiaryChanged {
    package static let created = "rahat.core.beneficiary.created"
    package static let updated = "rahat.core.beneficiary.updated"
    package static let archived = "rahat.core.beneficiary.archived"
}

extension Rahat_Core_V1_BeneficiaryVerificationDecided {
    package static let verified = "rahat.core.beneficiary.verified"
    package static let rejected = "rahat.core.beneficiary.rejected"
    package static let needsReview = "rahat.core.beneficiary.needs_review"
}

extension Rahat_Core_V1_WatchListReplaced {
    package static let topic = "rahat.core.watch_list.replaced"
}

extension Rahat_Core_V1_ImportFinished {
    package static let completed = "rahat.core.import.completed"
    package static let failed = "rahat.core.import.failed"
}

extension Rahat_Core_V1_VendorChanged {
    package static let registered = "rahat.core.vendor.registered"
    package static let updated = "rahat.core.vendor.updated"
    package static let deactivated = "rahat.core.vendor.deactivated"
}

extension Rahat_Core_V1_VendorProjectLinked {
    package static let assigned = "rahat.core.vendor.assigned"
    package static let unassigned = "rahat.core.vendor.unassigned"
}

extension Rahat_Core_V1_VendorPayoutChange {
    package static let requested = "rahat.core.vendor.payout_change_requested"
    package static let changed = "rahat.core.vendor.payout_changed"
    package static let rejected = "rahat.core.vendor.payout_change_rejected"
}

extension Rahat_Core_V1_GroupChanged {
    package static let created = "rahat.core.group.created"
    package static let updated = "rahat.core.group.updated"
    package static let deleted = "rahat.core.group.deleted"
}

extension Rahat_Core_V1_GroupMembersChanged {
    package static let added = "rahat.core.group.members_added"
    package static let removed = "rahat.core.group.members_removed"
}
