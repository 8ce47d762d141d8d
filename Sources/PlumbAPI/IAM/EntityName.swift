/// `{"name": …}`: the body that creates a user or a group, and the answer that names what was created.
///
/// A name that is not a string counts as missing (`MissingParameter`), as it always has; the store checks its form.
public struct EntityName: Codable, Sendable, Equatable {
    public var name: String

    enum CodingKeys: String, CodingKey { case name }

    public init(name: String) { self.name = name }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let name = container.lenient(String.self, forKey: .name) else {
            throw PlumbError(code: "MissingParameter", "'name' is required")
        }
        self.name = name
    }
}
