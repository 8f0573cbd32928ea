import AuthAPI
import Foundation
import ServerKit
import SharedModels
import SwiftProtobuf

extension Rahat_Auth_V1_User {
    init(_ user: UserInfo) {
        self.init()
        id = user.id.lowercasedString
        name = user.name
        email = user.email
        if let phone = user.phone { self.phone = phone }
        status = user.isActive ? .active : .disabled
        roles = user.roles.map(Rahat_Auth_V1_RoleAssignment.init)
        if let locale = user.locale { self.locale = locale }
        if let timeZone = user.timeZone { self.timeZone = timeZone }
        createdAt = Google_Protobuf_Timestamp(date: user.createdAt)
        updatedAt = Google_Protobuf_Timestamp(date: user.updatedAt)
    }
}

extension Rahat_Auth_V1_RoleAssignment {
    init(_ assignment: RoleAssignment) {
        self.init()
        role = assignment.role
        if let projectID = assignment.projectID { self.projectID = projectID }
    }

    var domain: RoleAssignment {
        RoleAssignment(role: role, projectID: hasProjectID ? projectID : nil)
    }
}

extension Rahat_Auth_V1_Role {
    init(_ role: RoleInfo) {
        self.init()
        name = role.name
        if let description = role.description { self.description_p = description }
        builtIn = role.builtIn
        permissions = role.permissions
        createdAt = Google_Protobuf_Timestamp(date: role.createdAt)
    }
}

extension Rahat_Auth_V1_ApiKey {
    init(_ key: ApiKeyInfo) {
        self.init()
        id = key.id.lowercasedString
        name = key.name
        prefix = key.prefix
        permissions = key.permissions
        if let projectID = key.projectID { self.projectID = projectID }
        ownerID = key.ownerID.lowercasedString
        if let expiresAt = key.expiresAt { self.expiresAt = Google_Protobuf_Timestamp(date: expiresAt) }
        if let lastUsedAt = key.lastUsedAt { self.lastUsedAt = Google_Protobuf_Timestamp(date: lastUsedAt) }
        if let revokedAt = key.revokedAt { self.revokedAt = Google_Protobuf_Timestamp(date: revokedAt) }
        createdAt = Google_Protobuf_Timestamp(date: key.createdAt)
    }
}

extension Rahat_Auth_V1_TokenPair {
    init(_ tokens: IssuedTokens) {
        self.init()
        accessToken = tokens.accessToken
        expiresInSeconds = tokens.accessExpiresIn.components.seconds
        refreshToken = tokens.refreshToken
        refreshExpiresInSeconds = tokens.refreshExpiresIn.components.seconds
    }
}

extension Rahat_Auth_V1_Principal {
    init(_ info: AuthDomain.PrincipalInfo) {
        self.init()
        user = Rahat_Auth_V1_User(info.user)
        permissions = info.permissions.texts
        authMethod = info.method == .apiKey ? .apiKey : .password
        if let apiKeyID = info.apiKeyID { self.apiKeyID = apiKeyID.lowercasedString }
    }
}
