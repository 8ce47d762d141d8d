import Foundation
import GRDB
import PlumbAPI

/// The IAM listings as the API answers them (`GET /api/v1/iam/users`, `…/groups`, `…/policies`), by name.
extension IAMStore {
    public func users() async throws -> [UserDescription] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT name, disabled FROM users ORDER BY name").map { row in
                let name: String = row["name"]
                return UserDescription(
                    name: name, disabled: (row["disabled"] as Int) != 0,
                    groups: try String.fetchAll(
                        db, sql: "SELECT grp FROM members WHERE user = ? ORDER BY grp", arguments: [name]),
                    policies: try String.fetchAll(
                        db, sql: "SELECT policy FROM attachments WHERE kind = 'user' AND principal = ? ORDER BY policy",
                        arguments: [name]))
            }
        }
    }

    public func groups() async throws -> [GroupDescription] {
        try await database.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM groups ORDER BY name").map { name in
                GroupDescription(
                    name: name,
                    members: try String.fetchAll(
                        db, sql: "SELECT user FROM members WHERE grp = ? ORDER BY user", arguments: [name]),
                    policies: try String.fetchAll(
                        db,
                        sql: "SELECT policy FROM attachments WHERE kind = 'group' AND principal = ? ORDER BY policy",
                        arguments: [name]))
            }
        }
    }

    public func policies() async throws -> [StoredPolicy] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT name, document FROM policies ORDER BY name").map {
                StoredPolicy(name: $0["name"], document: $0["document"])
            }
        }
    }
}
