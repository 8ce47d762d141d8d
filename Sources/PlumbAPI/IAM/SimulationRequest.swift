/// `POST /api/v1/iam/simulate`: would `user` be allowed `action` (`alarms:PutAlarm`) on `resource`
/// (`alarm/sensors-no-data`)?
///
/// A field that is not a string counts as missing (`MissingParameter`), as it always has.
public struct SimulationRequest: Codable, Sendable, Equatable {
    public var user: String
    public var action: String
    public var resource: String

    enum CodingKeys: String, CodingKey { case user, action, resource }

    public init(user: String, action: String, resource: String) {
        self.user = user
        self.action = action
        self.resource = resource
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let user = container.lenient(String.self, forKey: .user),
            let action = container.lenient(String.self, forKey: .action),
            let resource = container.lenient(String.self, forKey: .resource)
        else {
            throw PlumbError(code: "MissingParameter", "'user', 'action' and 'resource' are required")
        }
        self.init(user: user, action: action, resource: resource)
    }
}
