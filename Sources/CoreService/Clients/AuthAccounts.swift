package import AuthAPI
import Foundation
import GRPCCore
import ServerKit
import SharedModels
import SwiftProtobuf

/// The auth service as the core service uses it: vendors' logins. Calls carry the current
/// caller's credentials on, so the auth service applies its own permission checks to them.
package struct AuthAccounts: Sendable {
    let users: any Rahat_Auth_V1_UserService.ClientProtocol

    package init(users: any Rahat_Auth_V1_UserService.ClientProtocol) {
        self.users = users
    }

    /// Creates a login holding the `vendor` role and returns its user id.
    func createVendorLogin(name: String, email: String, password: String, phone: String?) async throws -> UUID {
        let user = try await users.createUser(
            .with {
                $0.name = name
                $0.email = email
                $0.password = password
                if let phone { $0.phone = phone }
                $0.roles = [.with { $0.role = Rahat_Auth_V1_RoleAssignment.vendor }]
            },
            metadata: IncomingCall.current.metadata
        )
        guard let id = UUID(uuidString: user.id) else { throw CoreError.vendorLoginUnavailable }
        return id
    }

    /// Adds the `vendor` role to an existing, active user; returns its email.
    func grantVendorRole(to userID: UUID) async throws -> String {
        let metadata = IncomingCall.current.metadata
        let user: Rahat_Auth_V1_User
        do {
            user = try await users.getUser(.with { $0.id = userID.lowercasedString }, metadata: metadata)
        } catch let error as RPCError where error.code == .notFound {
            // A field of the request that names nobody, as enrolment names an unknown person.
            throw CoreError.invalidInput([FieldViolation(field: "userId", reason: "is not a user")])
        }
        guard user.status == .active else {
            throw CoreError.invalidInput([FieldViolation(field: "userId", reason: "is a disabled user")])
        }
        if !user.roles.contains(where: { $0.role == Rahat_Auth_V1_RoleAssignment.vendor && !$0.hasProjectID }) {
            _ = try await users.setUserRoles(
                .with {
                    $0.userID = user.id
                    $0.roles = user.roles + [.with { $0.role = Rahat_Auth_V1_RoleAssignment.vendor }]
                },
                metadata: metadata
            )
        }
        return user.email
    }

    /// Undoes a login created moments ago when the vendor record that needed it could not be written.
    func removeLogin(_ userID: UUID) async throws {
        _ = try await users.deleteUser(
            .with { $0.id = userID.lowercasedString }, metadata: IncomingCall.current.metadata)
    }
}
