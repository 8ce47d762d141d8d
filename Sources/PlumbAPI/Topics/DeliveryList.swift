/// `GET /api/v1/deliveries`: a page of the delivery log, newest first, with the count of every status; `next` is the
/// `before` of the following page (absent on the last).
public struct DeliveryList: Codable, Sendable, Equatable {
    public var deliveries: [DeliveryDescription]
    public var counts: [String: Int]
    public var next: Int64?

    public init(deliveries: [DeliveryDescription], counts: [String: Int], next: Int64?) {
        self.deliveries = deliveries
        self.counts = counts
        self.next = next
    }
}
