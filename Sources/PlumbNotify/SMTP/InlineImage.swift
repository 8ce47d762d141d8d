/// A picture that the HTML part of a mail shows through a `cid:` URL (RFC 2392), sent beside it in a
/// multipart/related part (RFC 2387) so that the reader sees it without loading anything remote.
public struct InlineImage: Sendable, Equatable {
    /// The Content-ID without angle brackets (`chart.<message id>@plumb`): a dot-atom, an `@`, a dot-atom.
    public var contentID: String
    /// `image/png`.
    public var contentType: String
    public var filename: String
    public var data: [UInt8]

    public init(contentID: String, contentType: String, filename: String, data: [UInt8]) {
        self.contentID = contentID
        self.contentType = contentType
        self.filename = filename
        self.data = data
    }

    /// `contentID` with anything outside the atom characters of RFC 5322 (and `.` and `@`) removed, so that the
    /// header and the `cid:` URL cannot carry a line break, a quote or a bracket.
    public var safeContentID: String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@")
        let kept = String(contentID.filter { allowed.contains($0) }.prefix(200))
        return kept.contains("@") ? kept : kept + "@plumb"
    }
}
