/// A notification turned into a mail: subject, plain text, HTML and the pictures the HTML shows through `cid:`.
public struct RenderedEmail: Sendable {
    public var subject: String
    public var text: String
    public var html: String
    public var inlineImages: [InlineImage]

    public init(subject: String, text: String, html: String, inlineImages: [InlineImage] = []) {
        self.subject = subject
        self.text = text
        self.html = html
        self.inlineImages = inlineImages
    }
}
