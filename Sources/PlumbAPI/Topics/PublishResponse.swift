/// The answer to a publish: the message's id, which every delivery of it carries (`messageId`, as SNS).
public struct PublishResponse: Codable, Sendable, Equatable {
    public var messageId: String

    public init(messageId: String) { self.messageId = messageId }
}
