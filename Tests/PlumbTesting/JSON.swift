import Foundation

/// The JSON object in `bytes` (a response body, a file, a peer's record); empty when they hold something else.
public func json(_ bytes: some Collection<UInt8>) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) as? [String: Any] ?? [:]
}

/// The JSON object in `text`; empty when it holds something else.
public func json(_ text: String) -> [String: Any] { json(Array(text.utf8)) }

/// The JSON array of objects in `bytes`; empty when they hold something else.
public func jsonArray(_ bytes: some Collection<UInt8>) -> [[String: Any]] {
    (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) as? [[String: Any]] ?? []
}
