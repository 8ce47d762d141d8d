import Foundation

/// An IAM-style policy: statements that allow or deny actions (`alarms:PutAlarm`) on resources
/// (`alarm/sensors-no-data`), with `*` and `?` wildcards.
public struct Policy: Sendable, Equatable {
    public enum Effect: String, Sendable, Equatable {
        case allow = "Allow"
        case deny = "Deny"
    }

    public struct Statement: Sendable, Equatable {
        public var sid: String?
        public var effect: Effect
        public var actions: [String]
        public var resources: [String]

        public init(sid: String? = nil, effect: Effect, actions: [String], resources: [String]) {
            self.sid = sid
            self.effect = effect
            self.actions = actions
            self.resources = resources
        }

        /// Actions match case-insensitively (as IAM); resources case-sensitively.
        public func matches(action: String, resource: String) -> Bool {
            actions.contains { Wildcard.matches($0.lowercased(), action.lowercased()) }
                && resources.contains { Wildcard.matches($0, resource) }
        }
    }

    public var name: String
    public var statements: [Statement]

    public init(name: String, statements: [Statement]) {
        self.name = name
        self.statements = statements
    }

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    /// Parses the JSON document `{"Version": "2012-10-17", "Statement": [{"Sid", "Effect", "Action", "Resource"}]}`;
    /// `Action` and `Resource` are a string or a list. Errors name the statement and field.
    public static func parse(name: String, json: [UInt8]) throws -> Policy {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] else {
            throw Invalid(message: "policy \(name): the document must be a JSON object")
        }
        if let unknown = object.keys.sorted().first(where: { !["Version", "Statement"].contains($0) }) {
            throw Invalid(message: "policy \(name): unknown field '\(unknown)' (Version, Statement)")
        }
        if let version = object["Version"], version as? String != "2012-10-17" {
            throw Invalid(message: "policy \(name): Version must be \"2012-10-17\"")
        }
        let raw: [Any]
        if let list = object["Statement"] as? [Any] {
            raw = list
        } else if let one = object["Statement"] as? [String: Any] {
            raw = [one]
        } else {
            throw Invalid(message: "policy \(name): Statement must be a statement or a list of them")
        }
        guard !raw.isEmpty else { throw Invalid(message: "policy \(name): Statement is empty") }
        let statements = try raw.enumerated().map { index, item -> Statement in
            let at = "policy \(name): Statement[\(index)]"
            guard let s = item as? [String: Any] else { throw Invalid(message: "\(at) must be an object") }
            if let unknown = s.keys.sorted().first(where: { !["Sid", "Effect", "Action", "Resource"].contains($0) }) {
                throw Invalid(message: "\(at): unknown field '\(unknown)' (Sid, Effect, Action, Resource)")
            }
            guard let effectText = s["Effect"] as? String, let effect = Effect(rawValue: effectText) else {
                throw Invalid(message: "\(at).Effect must be Allow or Deny")
            }
            func strings(_ key: String) throws -> [String] {
                if let one = s[key] as? String { return [one] }
                if let list = s[key] as? [String], !list.isEmpty { return list }
                throw Invalid(message: "\(at).\(key) must be a string or a non-empty list of strings")
            }
            let actions = try strings("Action")
            for a in actions where a != "*" && !a.contains(":") {
                throw Invalid(message: "\(at).Action '\(a)' must be service:Action (e.g. alarms:PutAlarm) or *")
            }
            return Statement(
                sid: s["Sid"] as? String, effect: effect, actions: actions, resources: try strings("Resource"))
        }
        return Policy(name: name, statements: statements)
    }
}

/// `*` matches any run of characters (also none), `?` exactly one.
public enum Wildcard {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8)
        let t = Array(text.utf8)
        var (i, j) = (0, 0)
        var star = -1
        var mark = 0
        while j < t.count {
            if i < p.count, p[i] == UInt8(ascii: "?") || p[i] == t[j] {
                i += 1
                j += 1
            } else if i < p.count, p[i] == UInt8(ascii: "*") {
                star = i
                mark = j
                i += 1
            } else if star >= 0 {
                i = star + 1
                mark += 1
                j = mark
            } else {
                return false
            }
        }
        while i < p.count, p[i] == UInt8(ascii: "*") { i += 1 }
        return i == p.count
    }
}

/// IAM's evaluation for one principal: an explicit Deny in any of its policies wins; otherwise an Allow is needed;
/// otherwise the request is implicitly denied.
public enum PolicyEvaluator {
    public struct Decision: Sendable, Equatable {
        public enum Outcome: String, Sendable {
            case allowed
            case explicitDeny = "explicit-deny"
            case implicitDeny = "implicit-deny"
        }
        public var outcome: Outcome
        /// The deciding statement: `policy#index` (with its Sid) or nil for an implicit deny.
        public var policy: String?
        public var statement: Int?
        public var sid: String?

        public var allowed: Bool { outcome == .allowed }

        public var explanation: String {
            switch outcome {
            case .allowed: "allowed by \(policy ?? "?") statement \(statement ?? 0)\(sid.map { " (\($0))" } ?? "")"
            case .explicitDeny:
                "denied by \(policy ?? "?") statement \(statement ?? 0)\(sid.map { " (\($0))" } ?? "") (explicit deny)"
            case .implicitDeny: "denied: no statement allows it (implicit deny)"
            }
        }
    }

    public static func evaluate(_ policies: [Policy], action: String, resource: String) -> Decision {
        var allow: Decision?
        for policy in policies {
            for (index, statement) in policy.statements.enumerated()
            where statement.matches(action: action, resource: resource) {
                switch statement.effect {
                case .deny:
                    return Decision(outcome: .explicitDeny, policy: policy.name, statement: index, sid: statement.sid)
                case .allow:
                    if allow == nil {
                        allow = Decision(outcome: .allowed, policy: policy.name, statement: index, sid: statement.sid)
                    }
                }
            }
        }
        return allow ?? Decision(outcome: .implicitDeny)
    }
}
