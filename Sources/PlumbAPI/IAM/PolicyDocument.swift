/// An IAM policy document, `{"Version": "2012-10-17", "Statement": [{"Sid", "Effect", "Action", "Resource"}]}`,
/// exactly as it was put: `Statement` a statement or a list, `Action` and `Resource` a string or a list.
///
/// Free-form on purpose: PlumbAuth's `Policy.parse` is the one reader of the grammar (it refuses unknown fields with
/// its own messages when the document is put), and a stored document is given back as it was written, whatever
/// shape of the grammar it chose.
public struct PolicyDocument: Codable, Sendable, Equatable {
    public var json: JSONValue

    public init(json: JSONValue) { self.json = json }

    public init(from decoder: any Decoder) throws {
        json = try JSONValue(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }
}
