/// A schedule rule made through the EventBridge API, as it is stored (the async event store's `schedule_rules`):
/// EventBridge's own member names, each target a function with the Lambda ARN it was given and the input it gets.
public struct ScheduleRule: Codable, Sendable, Equatable {
    public struct Target: Codable, Sendable, Equatable {
        public var id: String
        public var arn: String
        /// The hosted function the ARN names.
        public var function: String
        /// The JSON text the function gets instead of EventBridge's scheduled event.
        public var input: String?

        public init(id: String, arn: String, function: String, input: String? = nil) {
            self.id = id
            self.arn = arn
            self.function = function
            self.input = input
        }

        enum CodingKeys: String, CodingKey {
            case id = "Id"
            case arn = "Arn"
            case function = "Function"
            case input = "Input"
        }
    }

    public var name: String
    public var scheduleExpression: String
    /// `ENABLED` or `DISABLED`.
    public var state: String
    public var description: String?
    public var targets: [Target]

    public init(
        name: String, scheduleExpression: String, state: String = "ENABLED", description: String? = nil,
        targets: [Target] = []
    ) {
        self.name = name
        self.scheduleExpression = scheduleExpression
        self.state = state
        self.description = description
        self.targets = targets
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name"
        case scheduleExpression = "ScheduleExpression"
        case state = "State"
        case description = "Description"
        case targets = "Targets"
    }

    /// The key its target's runs are recorded under (beside the plugins' scheduled functions' names).
    public static func runKey(rule: String, target: String) -> String { "events-rule/\(rule)/\(target)" }
}
