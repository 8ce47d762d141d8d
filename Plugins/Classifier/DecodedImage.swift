import CImageCodecs
import Foundation

/// A decoded image: 8-bit RGB pixels, row by row.
public struct DecodedImage: Sendable {
    public let width: Int
    public let height: Int
    /// width × height × 3 bytes.
    public let rgb: [UInt8]

    public enum Format: String, Sendable {
        case png = "image/png"
        case jpeg = "image/jpeg"
    }

    public struct DecodeError: Error, CustomStringConvertible, Sendable {
        public let message: String
        /// 413 for images over the limits, 415 for bytes that are no PNG or JPEG, 400 for broken ones.
        public let status: Int
        public var description: String { message }
    }

    /// The format from the first bytes (PNG signature, JPEG SOI marker), or nil.
    public static func sniff(_ bytes: [UInt8]) -> Format? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    /// Decodes PNG or JPEG through the system's libpng and libjpeg. The size is read first, so an image over
    /// `maxPixels` is refused before its pixels are decoded.
    public static func decode(_ bytes: [UInt8], maxPixels: Int = 16_000_000) throws -> (DecodedImage, Format) {
        guard let format = sniff(bytes) else {
            throw DecodeError(message: "the body is neither a PNG nor a JPEG image", status: 415)
        }
        switch format {
        case .png: return (try decodePNG(bytes, maxPixels: maxPixels), .png)
        case .jpeg: return (try decodeJPEG(bytes, maxPixels: maxPixels), .jpeg)
        }
    }

    static func decodePNG(_ bytes: [UInt8], maxPixels: Int) throws -> DecodedImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else {
            let message = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            png_image_free(&image)
            throw DecodeError(message: "not a readable PNG: \(message)", status: 400)
        }
        let width = Int(image.width)
        let height = Int(image.height)
        guard width * height <= maxPixels else {
            png_image_free(&image)
            throw DecodeError(
                message: "the image is \(width)×\(height); at most \(maxPixels) pixels are accepted", status: 413)
        }
        image.format = UInt32(PNG_FORMAT_RGB)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let finished = bytes.withUnsafeBytes { _ in
            pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        }
        guard finished != 0 else {
            let message = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            png_image_free(&image)
            throw DecodeError(message: "the PNG is damaged: \(message)", status: 400)
        }
        return DecodedImage(width: width, height: height, rgb: pixels)
    }

    static func decodeJPEG(_ bytes: [UInt8], maxPixels: Int) throws -> DecodedImage {
        var rgb: UnsafeMutablePointer<UInt8>?
        var width: UInt32 = 0
        var height: UInt32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let result = bytes.withUnsafeBufferPointer { buffer in
            plumb_decode_jpeg(
                buffer.baseAddress, UInt(buffer.count), UInt(maxPixels), &rgb, &width, &height, &message, message.count)
        }
        if result == -2 {
            throw DecodeError(
                message: "the image is \(width)×\(height); at most \(maxPixels) pixels are accepted", status: 413)
        }
        guard result == 0, let rgb else {
            throw DecodeError(message: "the JPEG is damaged: \(String(cString: message))", status: 400)
        }
        defer { free(rgb) }
        let count = Int(width) * Int(height) * 3
        return DecodedImage(
            width: Int(width), height: Int(height), rgb: Array(UnsafeBufferPointer(start: rgb, count: count)))
    }
}
