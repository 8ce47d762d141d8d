extension KeyedDecodingContainer {
    /// The value at `key` when it is a `T`, nil when the key is absent, null or holds another JSON type.
    ///
    /// Why: the IAM routes read their bodies as `object["user"] as? String`, so a field of the wrong type counted as
    /// a missing one (`MissingParameter`, not a type error). Request types that keep that answer read through this.
    public func lenient<T: Decodable>(_ type: T.Type, forKey key: Key) -> T? {
        (try? decodeIfPresent(type, forKey: key)) ?? nil
    }
}
