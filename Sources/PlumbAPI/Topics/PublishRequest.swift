/// `POST /api/v1/topics/{topic}/publish`: a message for every confirmed subscription (the subject is an email's
/// subject line; attributes travel with webhook deliveries).
public struct PublishRequest: Codable, Sendable, Equatable {
    public var subject: String?
    public var message: String
    public var attributes: [String: String]?

    public init(subject: String? = nil, message: String, attributes: [String: String]? = nil) {
        self.subject = subject
        self.message = message
        self.attributes = attributes
    }
}
