import AuthAPI
import CoreAPI
import Foundation
import GRPCCore
import Persistence
import ServerKit
import SwiftProtobuf
import TestInfrastructure
import TestSupport
import Testing

/// Vendors: their logins, payout accounts and the projects they serve.
@Suite("Vendors")
struct VendorTests {
    static func newVendor(
        _ name: String = "Ram Kirana Pasal", email: String = "ram@example.org"
    ) -> Rahat_Core_V1_RegisterVendorRequest {
        .with {
            $0.name = name
            $0.email = email
            $0.password = "a long vendor passphrase"
            $0.phone = "981-111-2222"
            $0.defaultCountry = "NP"
            $0.location = "Birgunj"
            $0.payoutAccount = .with {
                $0.type = .mobileMoney
                $0.provider = "eSewa"
                $0.mobileNumber = "9811112222"
            }
        }
    }

    @Test(
        "registering creates a vendor login that can sign in with the vendor role", arguments: DatabaseEngine.available)
    func register(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            // when
            let vendor = try await harness.vendors.registerVendor(Self.newVendor(), metadata: admin)
            let tokens = try await harness.login("ram@example.org", "a long vendor passphrase")
            let me = try await harness.auth.getPrincipal(.init(), metadata: ServiceHarness.bearer(tokens.accessToken))
            let fetched = try await harness.vendors.getVendor(.with { $0.id = vendor.id }, metadata: admin)
            let events = try await harness.coreOutbox().filter { $0.type == "rahat.core.vendor.registered" }
            // then
            #expect(vendor.userID == me.user.id)
            #expect(me.user.roles.map(\.role) == ["vendor"])
            #expect(vendor.phone == "+9779811112222")
            #expect(vendor.payoutAccount.mobileNumber == "+9779811112222")
            #expect(vendor.status == .active)
            #expect(fetched.payoutAccount == vendor.payoutAccount && fetched.userID == vendor.userID)
            #expect(events.map(\.aggregateID) == [vendor.id])
        }
    }

    @Test("bad payout details are named field by field and nothing is created", arguments: DatabaseEngine.available)
    func payoutValidation(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            var badIBAN = Self.newVendor()
            badIBAN.payoutAccount = .with {
                $0.type = .bank
                $0.bankName = "Nabil Bank"
                $0.accountName = "Ram Kirana"
                $0.accountNumber = "GB82 WEST 1234 5698 7654 33"
                $0.bic = "NAB"
            }
            var missing = Self.newVendor()
            missing.payoutAccount = .with { $0.type = .bank }
            var noType = Self.newVendor()
            noType.payoutAccount = .with { $0.mobileNumber = "123" }
            var badMobile = Self.newVendor()
            badMobile.payoutAccount.mobileNumber = "12ab"
            var goodIBAN = Self.newVendor(email: "iban@example.org")
            goodIBAN.payoutAccount = .with {
                $0.type = .bank
                $0.bankName = "Nabil Bank"
                $0.accountName = "Ram Kirana"
                $0.accountNumber = "GB82 WEST 1234 5698 7654 32"
                $0.bic = "narbnpka"
            }
            // when
            let iban = await serviceFailure { try await harness.vendors.registerVendor(badIBAN, metadata: admin) }
            let absent = await serviceFailure { try await harness.vendors.registerVendor(missing, metadata: admin) }
            let untyped = await serviceFailure { try await harness.vendors.registerVendor(noType, metadata: admin) }
            let mobile = await serviceFailure { try await harness.vendors.registerVendor(badMobile, metadata: admin) }
            let users = try await harness.users.listUsers(.with { $0.limit = 50 }, metadata: admin)
            let good = try await harness.vendors.registerVendor(goodIBAN, metadata: admin)
            // then
            #expect(
                Set(iban?.violations.map(\.field) ?? []) == ["payoutAccount.accountNumber", "payoutAccount.bic"])
            #expect(
                Set(absent?.violations.map(\.field) ?? [])
                    == ["payoutAccount.bankName", "payoutAccount.accountName", "payoutAccount.accountNumber"])
            #expect(untyped?.violations.map(\.field) == ["payoutAccount.type"])
            #expect(mobile?.violations.map(\.field) == ["payoutAccount.mobileNumber"])
            #expect(users.users.count == 1)
            #expect(good.payoutAccount.accountNumber == "GB82WEST12345698765432")
            #expect(good.payoutAccount.bic == "NARBNPKA")
        }
    }

    @Test(
        "an existing user is linked once; a login the auth service refuses leaves no vendor",
        arguments: DatabaseEngine.available)
    func linking(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let adminToken = try await harness.login().accessToken
            let admin = ServiceHarness.bearer(adminToken)
            let staff = try await harness.createUser(
                email: "shop@example.org", roles: [.role("field_agent")], as: adminToken)
            var link = Self.newVendor()
            link.clearEmail()
            link.clearPassword()
            link.userID = staff.user.id
            // when
            let linked = try await harness.vendors.registerVendor(link, metadata: admin)
            let roles = try await harness.users.listUserRoles(.with { $0.userID = staff.user.id }, metadata: admin)
            let again = await serviceFailure { try await harness.vendors.registerVendor(link, metadata: admin) }
            let takenEmail = await serviceFailure {
                try await harness.vendors.registerVendor(Self.newVendor(email: "shop@example.org"), metadata: admin)
            }
            let vendors = try await harness.vendors.listVendors(.with { _ in }, metadata: admin)
            // then
            #expect(linked.userID == staff.user.id)
            #expect(linked.email == "shop@example.org")
            #expect(Set(roles.roles.map(\.role)) == ["field_agent", "vendor"])
            #expect(again?.reason == "vendor.exists")
            #expect(takenEmail?.kind == .alreadyExists)
            #expect(vendors.vendors.map(\.id) == [linked.id])
        }
    }

    @Test(
        "vendors are assigned to projects, listed per project, updated and deactivated",
        arguments: DatabaseEngine.available)
    func projects(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let project = try await harness.projects.createProject(ProjectTests.newProject(), metadata: admin)
            let other = try await harness.projects.createProject(ProjectTests.newProject("Other"), metadata: admin)
            let vendor = try await harness.vendors.registerVendor(Self.newVendor(), metadata: admin)
            let bystander = try await harness.vendors.registerVendor(
                Self.newVendor("Sita Store", email: "sita@example.org"), metadata: admin)
            // when
            let first = try await harness.vendors.assignVendor(
                .with {
                    $0.projectID = project.id
                    $0.vendorID = vendor.id
                },
                metadata: admin
            )
            let second = try await harness.vendors.assignVendor(
                .with {
                    $0.projectID = project.id
                    $0.vendorID = vendor.id
                },
                metadata: admin
            )
            let inProject = try await harness.vendors.listVendors(.with { $0.projectID = project.id }, metadata: admin)
            let updated = try await harness.vendors.updateVendor(
                .with {
                    $0.id = vendor.id
                    $0.name = "Ram Kirana & Sons"
                },
                metadata: admin
            )
            let deactivated = try await harness.vendors.deactivateVendor(.with { $0.id = vendor.id }, metadata: admin)
            let refused = await serviceFailure {
                try await harness.vendors.assignVendor(
                    .with {
                        $0.projectID = other.id
                        $0.vendorID = vendor.id
                    },
                    metadata: admin
                )
            }
            let active = try await harness.vendors.listVendors(.with { $0.status = .active }, metadata: admin)
            _ = try await harness.vendors.unassignVendor(
                .with {
                    $0.projectID = project.id
                    $0.vendorID = vendor.id
                },
                metadata: admin
            )
            let afterUnassign = try await harness.vendors.listVendors(
                .with { $0.projectID = project.id }, metadata: admin)
            // then
            #expect(first.assigned && !second.assigned)
            #expect(inProject.vendors.map(\.id) == [vendor.id])
            #expect(inProject.vendors.first?.projectIds == [project.id])
            #expect(updated.name == "Ram Kirana & Sons")
            #expect(deactivated.status == .inactive && deactivated.hasDeactivatedAt)
            #expect(refused?.reason == "vendor.inactive")
            #expect(active.vendors.map(\.id) == [bystander.id])
            #expect(afterUnassign.vendors.isEmpty)
        }
    }

    @Test(
        "a manager of project A assigns to A only vendors it may already see, and sees A's vendors",
        arguments: DatabaseEngine.available)
    func projectScope(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given a vendor serving A, one serving no project yet, and A's manager
            let adminToken = try await harness.login().accessToken
            let admin = ServiceHarness.bearer(adminToken)
            let projectA = try await harness.projects.createProject(ProjectTests.newProject("A"), metadata: admin)
            let projectB = try await harness.projects.createProject(ProjectTests.newProject("B"), metadata: admin)
            let vendor = try await harness.vendors.registerVendor(Self.newVendor(), metadata: admin)
            _ = try await harness.vendors.assignVendor(
                .with {
                    $0.projectID = projectA.id
                    $0.vendorID = vendor.id
                }, metadata: admin)
            let unassigned = try await harness.vendors.registerVendor(
                Self.newVendor(email: "new@example.org"), metadata: admin)
            let manager = try await harness.createUser(
                email: "manager@example.org", roles: [.role("manager", project: projectA.id)], as: adminToken)
            let asManager = ServiceHarness.bearer(manager.tokens.accessToken)
            // when
            let inA = try await harness.vendors.assignVendor(
                .with {
                    $0.projectID = projectA.id
                    $0.vendorID = vendor.id
                },
                metadata: asManager
            )
            let unseen = await serviceFailure {
                try await harness.vendors.assignVendor(
                    .with {
                        $0.projectID = projectA.id
                        $0.vendorID = unassigned.id
                    },
                    metadata: asManager
                )
            }
            let inB = await serviceFailure {
                try await harness.vendors.assignVendor(
                    .with {
                        $0.projectID = projectB.id
                        $0.vendorID = vendor.id
                    },
                    metadata: asManager
                )
            }
            let listA = try await harness.vendors.listVendors(.with { $0.projectID = projectA.id }, metadata: asManager)
            let listB = await serviceFailure {
                try await harness.vendors.listVendors(.with { $0.projectID = projectB.id }, metadata: asManager)
            }
            let register = await serviceFailure {
                try await harness.vendors.registerVendor(Self.newVendor(email: "x@example.org"), metadata: asManager)
            }
            // then
            #expect(!inA.assigned)
            #expect(unseen?.kind == .notFound)
            #expect(inB?.kind == .permissionDenied)
            #expect(listA.vendors.map(\.id) == [vendor.id])
            #expect(listB?.kind == .permissionDenied)
            #expect(register?.kind == .permissionDenied)
        }
    }

    @Test(
        "a vendor's login reads its own vendor and the projects it serves, and nothing else",
        arguments: DatabaseEngine.available)
    func ownVendor(engine: DatabaseEngine) async throws {
        try await ServiceHarness.with(engine) { harness in
            // given
            let admin = ServiceHarness.bearer(try await harness.login().accessToken)
            let served = try await harness.projects.createProject(ProjectTests.newProject("Served"), metadata: admin)
            let other = try await harness.projects.createProject(ProjectTests.newProject("Other"), metadata: admin)
            let vendor = try await harness.vendors.registerVendor(Self.newVendor(), metadata: admin)
            let neighbour = try await harness.vendors.registerVendor(
                Self.newVendor("Sita Store", email: "sita@example.org"), metadata: admin)
            for shop in [vendor, neighbour] {
                _ = try await harness.vendors.assignVendor(
                    .with {
                        $0.projectID = served.id
                        $0.vendorID = shop.id
                    },
                    metadata: admin)
            }
            let shop = ServiceHarness.bearer(
                try await harness.login("ram@example.org", "a long vendor passphrase").accessToken)
            // when
            let listed = try await harness.vendors.listVendors(.with { _ in }, metadata: shop)
            let listedInProject = try await harness.vendors.listVendors(
                .with { $0.projectID = served.id }, metadata: shop)
            let own = try await harness.vendors.getVendor(.with { $0.id = vendor.id }, metadata: shop)
            let neighbours = await serviceFailure {
                try await harness.vendors.getVendor(.with { $0.id = neighbour.id }, metadata: shop)
            }
            let project = try await harness.projects.getProject(.with { $0.id = served.id }, metadata: shop)
            let otherProject = await serviceFailure {
                try await harness.projects.getProject(.with { $0.id = other.id }, metadata: shop)
            }
            let allProjects = await serviceFailure {
                try await harness.projects.listProjects(.with { _ in }, metadata: shop)
            }
            // then
            #expect(listed.vendors.map(\.id) == [vendor.id])
            #expect(listedInProject.vendors.map(\.id) == [vendor.id])
            #expect(own.payoutAccount == vendor.payoutAccount)
            #expect(neighbours?.kind == .notFound)
            #expect(project.assetScale == served.assetScale && project.name == "Served")
            #expect(otherProject?.kind == .permissionDenied)
            #expect(allProjects?.kind == .permissionDenied)
        }
    }
}
