/// `GET /api/v1/topics`: every topic, by name.
public struct TopicList: Codable, Sendable, Equatable {
    public var topics: [TopicDescription]

    public init(topics: [TopicDescription]) { self.topics = topics }
}
