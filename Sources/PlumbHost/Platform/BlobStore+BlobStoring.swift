import PlumbKit
import PlumbStore

/// The plugin API's view of a plugin's blob store.
extension BlobStore: BlobStoring {
    public func tier(_ key: String) throws -> BlobTier? {
        switch try tier(key) as BlobStore.Tier? {
        case .none: nil
        case .hot: .hot
        case .archived: .archived
        case .restored(let until): .restored(until: until)
        }
    }
}
