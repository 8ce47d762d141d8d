/// `PUT /api/v1/functions/{name}/concurrency`: `{"reserved": N}` (null clears the reservation) and/or
/// `{"provisioned": M}` (0 clears it); at least one key.
///
/// Decoded by hand because null and absent differ for `reserved`, and each refusal names its key.
public struct ConcurrencyRequest: Codable, Sendable, Equatable {
    /// Outer nil: not given; inner nil: clear the reservation.
    public var reserved: Int??
    public var provisioned: Int?

    enum CodingKeys: String, CodingKey { case reserved, provisioned }

    public init(reserved: Int??, provisioned: Int?) {
        self.reserved = reserved
        self.provisioned = provisioned
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.contains(.reserved) || c.contains(.provisioned) else {
            throw PlumbError(
                code: "MissingParameter",
                "give 'reserved' (a whole number, or null to clear) and/or 'provisioned' (a whole number, 0 to clear)")
        }
        if !c.contains(.reserved) {
            reserved = nil
        } else if try c.decodeNil(forKey: .reserved) {
            reserved = .some(nil)
        } else {
            guard let value = try? c.decode(Int.self, forKey: .reserved) else {
                throw PlumbError("'reserved' must be a whole number or null")
            }
            reserved = .some(value)
        }
        if c.contains(.provisioned) {
            guard let value = try? c.decode(Int.self, forKey: .provisioned), value >= 0 else {
                throw PlumbError("'provisioned' must be a whole number, 0 or more")
            }
            provisioned = value
        } else {
            provisioned = nil
        }
    }

    /// Writes `"reserved": null` to clear, and leaves out what is not given.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch reserved {
        case .some(.some(let value)): try c.encode(value, forKey: .reserved)
        case .some(.none): try c.encodeNil(forKey: .reserved)
        case .none: break
        }
        try c.encodeIfPresent(provisioned, forKey: .provisioned)
    }
}
