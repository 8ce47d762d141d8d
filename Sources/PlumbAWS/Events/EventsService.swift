import Foundation
import PlumbAPI

/// What the EventBridge API needs of the server: the stored rules, the plugins' own schedules, and the checks of a
/// schedule expression and of a target function.
public protocol AWSEventsBackend: Sendable {
    /// The rules made through the API: name → document (`ScheduleRule` as JSON).
    func rules() async throws -> [String: String]
    /// Stores a rule, or deletes it (`nil`).
    func putRule(name: String, document: String?) async throws
    /// The plugins' scheduled functions and their expressions (shown as managed rules).
    func builtInSchedules() -> [(function: String, expression: String)]
    /// Throws (with the reason) when `text` is not a `rate()` or `cron()` expression the scheduler runs.
    func validateSchedule(_ text: String) throws
    /// Throws unless `function` exists and the caller may invoke it.
    func authorizeTarget(_ function: String, caller: AWSCaller) throws
}

/// EventBridge (`events`, AWS JSON 1.1) over Plumb's scheduler: a rule with a `rate()` or `cron()` expression and
/// Lambda targets fires those functions as the plugins' own schedules fire theirs (on the leader, through the async
/// queue and its retries), with EventBridge's scheduled event or the target's `Input`. The plugins' schedules are
/// listed as managed rules (`plumb.FUNCTION`), read-only. Actions are AWS's (`events:PutRule`, …).
public struct EventsService: AWSService {
    public static let signingName = "events"
    public static let targetPrefix = "AWSEvents"
    /// Targets a rule may have, as EventBridge.
    static let maxTargets = 5
    static let managedPrefix = "plumb."
    static let pageSize = 100

    let backend: any AWSEventsBackend
    let names: AWSNames

    public init(backend: any AWSEventsBackend, names: AWSNames) {
        self.backend = backend
        self.names = names
    }

    public func handle(
        operation: String, input: [String: JSONValue], caller: AWSCaller
    ) async throws -> [String: JSONValue] {
        guard
            [
                "PutRule", "DescribeRule", "ListRules", "DeleteRule", "EnableRule", "DisableRule", "PutTargets",
                "ListTargetsByRule", "RemoveTargets",
            ].contains(operation)
        else { throw AWSError.unknownOperation(operation, service: "EventBridge") }
        if let bus = input["EventBusName"]?.string, bus != "default" {
            throw Self.validation("EventBusName: only the default event bus is served here")
        }
        let ruleName = input["Name"]?.string ?? input["Rule"]?.string
        try caller.authorize("events:\(operation)", "rule/\(ruleName ?? "*")")
        switch operation {
        case "PutRule": return try await putRule(input)
        case "ListRules": return try await listRules(input)
        case "DescribeRule": return describe(try await rule(named: try name(input, "Name")))
        case "DeleteRule": return try await deleteRule(try name(input, "Name"))
        case "EnableRule", "DisableRule":
            var rule = try await stored(try name(input, "Name"))
            rule.state = operation == "EnableRule" ? "ENABLED" : "DISABLED"
            try await save(rule)
            return [:]
        case "PutTargets": return try await putTargets(input, caller: caller)
        case "ListTargetsByRule":
            let rule = try await rule(named: try name(input, "Rule"))
            return ["Targets": .array(rule.targets.map(target))]
        default: return try await removeTargets(input)
        }
    }

    // MARK: - Rules

    func putRule(_ input: [String: JSONValue]) async throws -> [String: JSONValue] {
        let name = try name(input, "Name")
        guard !name.hasPrefix(Self.managedPrefix) else { throw Self.managed(name) }
        if input["EventPattern"] != nil {
            throw Self.validation("EventPattern: only scheduled rules (ScheduleExpression) are served here")
        }
        guard let expression = input["ScheduleExpression"]?.string, !expression.isEmpty else {
            throw Self.validation("ScheduleExpression is required (rate(…) or cron(…))")
        }
        do { try backend.validateSchedule(expression) } catch {
            throw Self.validation("Parameter ScheduleExpression is not valid: \(error)")
        }
        let state = input["State"]?.string ?? "ENABLED"
        guard ["ENABLED", "DISABLED"].contains(state) else {
            throw Self.validation("State must be ENABLED or DISABLED")
        }
        let description = input["Description"]?.string
        if let description, description.count > 512 {
            throw Self.validation("Description must be at most 512 characters")
        }
        if input["Tags"] != nil { throw Self.validation("Tags are not served here") }
        // A rule put again keeps its targets, as EventBridge's.
        let existing = try await backend.rules()[name].flatMap(Self.decode)
        try await save(
            ScheduleRule(
                name: name, scheduleExpression: expression, state: state, description: description,
                targets: existing?.targets ?? []))
        return ["RuleArn": .string(ruleARN(name))]
    }

    func listRules(_ input: [String: JSONValue]) async throws -> [String: JSONValue] {
        let prefix = input["NamePrefix"]?.string ?? ""
        var limit = Self.pageSize
        if let value = input["Limit"] {
            guard case .number(let n) = value, let whole = Int(exactly: n), (1...100).contains(whole) else {
                throw Self.validation("Limit must be 1…100")
            }
            limit = whole
        }
        let rules = try await allRules().filter { $0.name.hasPrefix(prefix) }
        var offset = 0
        if let token = input["NextToken"] {
            guard let text = token.string, let n = AWSPageToken.offset(text, count: rules.count) else {
                throw Self.validation("NextToken is not one this endpoint gave")
            }
            offset = n
        }
        let page = rules.dropFirst(offset).prefix(limit)
        var output: [String: JSONValue] = ["Rules": .array(page.map { .object(describe($0)) })]
        if offset + page.count < rules.count { output["NextToken"] = AWSPageToken.encode(offset + page.count) }
        return output
    }

    func deleteRule(_ name: String) async throws -> [String: JSONValue] {
        guard !name.hasPrefix(Self.managedPrefix) else { throw Self.managed(name) }
        // EventBridge's rule: a rule's targets are removed first. An absent rule is no error (as EventBridge).
        guard let rule = try await backend.rules()[name].flatMap(Self.decode) else { return [:] }
        guard rule.targets.isEmpty else { throw Self.validation("Rule can't be deleted since it has targets.") }
        try await backend.putRule(name: name, document: nil)
        return [:]
    }

    // MARK: - Targets

    func putTargets(_ input: [String: JSONValue], caller: AWSCaller) async throws -> [String: JSONValue] {
        var rule = try await stored(try name(input, "Rule"))
        guard case .array(let items)? = input["Targets"], !items.isEmpty, items.count <= 10 else {
            throw Self.validation("Targets must be a list of 1…10 targets")
        }
        var failed: [JSONValue] = []
        for item in items {
            guard case .object(let fields) = item, let id = fields["Id"]?.string, (1...64).contains(id.count),
                id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
            else { throw Self.validation("each target needs an Id of 1…64 letters, digits, '.', '_' or '-'") }
            func fail(_ code: String, _ message: String) {
                failed.append(
                    .object([
                        "TargetId": .string(id), "ErrorCode": .string(code), "ErrorMessage": .string(message),
                    ]))
            }
            if let other = fields.keys.first(where: { !["Id", "Arn", "Input", "RoleArn"].contains($0) }) {
                fail("ValidationException", "\(other) is not served here (a target is a function and its Input)")
                continue
            }
            guard let arn = fields["Arn"]?.string, arn.hasPrefix("arn:"), let range = arn.range(of: ":function:")
            else {
                fail("ValidationException", "Arn must be a Lambda function's ARN")
                continue
            }
            let function = String(arn[range.upperBound...].prefix { $0 != ":" })
            do { try backend.authorizeTarget(function, caller: caller) } catch {
                let refusal = AWSError.from(error)
                fail(refusal.code == "AccessDenied" ? "AccessDeniedException" : "ValidationException", refusal.message)
                continue
            }
            let input = fields["Input"]?.string
            if let input, input.utf8.count > 8_192 || (try? JSONValue.parse(Array(input.utf8))) == nil {
                fail("ValidationException", "Input must be valid JSON text of at most 8192 bytes")
                continue
            }
            rule.targets.removeAll { $0.id == id }
            rule.targets.append(ScheduleRule.Target(id: id, arn: arn, function: function, input: input))
        }
        guard rule.targets.count <= Self.maxTargets else {
            throw AWSError(
                code: "LimitExceededException", "a rule has at most \(Self.maxTargets) targets")
        }
        try await save(rule)
        return ["FailedEntryCount": .number(Double(failed.count)), "FailedEntries": .array(failed)]
    }

    func removeTargets(_ input: [String: JSONValue]) async throws -> [String: JSONValue] {
        var rule = try await stored(try name(input, "Rule"))
        guard case .array(let ids)? = input["Ids"], !ids.isEmpty, ids.count <= 100 else {
            throw Self.validation("Ids must be a list of 1…100 target ids")
        }
        let removing = Set(ids.compactMap(\.string))
        var failed: [JSONValue] = []
        for id in removing where !rule.targets.contains(where: { $0.id == id }) {
            failed.append(
                .object([
                    "TargetId": .string(id), "ErrorCode": .string("ResourceNotFoundException"),
                    "ErrorMessage": .string("no target \(id) on rule \(rule.name)"),
                ]))
        }
        rule.targets.removeAll { removing.contains($0.id) }
        try await save(rule)
        return ["FailedEntryCount": .number(Double(failed.count)), "FailedEntries": .array(failed)]
    }

    // MARK: - Reading and writing

    /// The stored rules and the plugins' schedules (managed), by name.
    func allRules() async throws -> [ScheduleRule] {
        let stored = try await backend.rules().values.compactMap(Self.decode)
        let managed = backend.builtInSchedules().map { schedule in
            ScheduleRule(
                name: Self.managedPrefix + schedule.function, scheduleExpression: schedule.expression,
                description: "The schedule of function \(schedule.function) (its plugin's)",
                targets: [
                    ScheduleRule.Target(
                        id: schedule.function,
                        arn: "arn:aws:lambda:\(names.region):\(names.account):function:\(schedule.function)",
                        function: schedule.function)
                ])
        }
        return (stored + managed).sorted { $0.name < $1.name }
    }

    func rule(named name: String) async throws -> ScheduleRule {
        guard let rule = try await allRules().first(where: { $0.name == name }) else { throw Self.notFound(name) }
        return rule
    }

    /// A rule made through the API (a managed one is refused: it is its plugin's).
    func stored(_ name: String) async throws -> ScheduleRule {
        guard !name.hasPrefix(Self.managedPrefix) else { throw Self.managed(name) }
        guard let rule = try await backend.rules()[name].flatMap(Self.decode) else { throw Self.notFound(name) }
        return rule
    }

    func save(_ rule: ScheduleRule) async throws {
        let document = String(decoding: try JSONEncoder().encode(rule), as: UTF8.self)
        try await backend.putRule(name: rule.name, document: document)
    }

    static func decode(_ document: String) -> ScheduleRule? {
        try? JSONDecoder().decode(ScheduleRule.self, from: Data(document.utf8))
    }

    func describe(_ rule: ScheduleRule) -> [String: JSONValue] {
        var members: [String: JSONValue] = [
            "Name": .string(rule.name), "Arn": .string(ruleARN(rule.name)), "State": .string(rule.state),
            "ScheduleExpression": .string(rule.scheduleExpression), "EventBusName": .string("default"),
        ]
        if let description = rule.description { members["Description"] = .string(description) }
        if rule.name.hasPrefix(Self.managedPrefix) { members["ManagedBy"] = .string("plumb") }
        return members
    }

    func target(_ target: ScheduleRule.Target) -> JSONValue {
        var members: [String: JSONValue] = ["Id": .string(target.id), "Arn": .string(target.arn)]
        if let input = target.input { members["Input"] = .string(input) }
        return .object(members)
    }

    func ruleARN(_ name: String) -> String { "arn:aws:events:\(names.region):\(names.account):rule/\(name)" }

    /// A rule name (1…64 letters, digits, `.`, `-`, `_`), from `member`.
    func name(_ input: [String: JSONValue], _ member: String) throws -> String {
        guard let name = input[member]?.string, (1...64).contains(name.count),
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
        else { throw Self.validation("\(member) must be 1…64 letters, digits, '.', '-' or '_'") }
        return name
    }

    static func validation(_ message: String) -> AWSError { AWSError(code: "ValidationException", message) }

    static func notFound(_ name: String) -> AWSError {
        AWSError(code: "ResourceNotFoundException", "Rule \(name) does not exist on EventBus default.")
    }

    static func managed(_ name: String) -> AWSError {
        AWSError(
            code: "ManagedRuleException",
            "Rule \(name) is its plugin's schedule (managed by plumb): change it in the plugin, not through EventBridge"
        )
    }
}
