import Foundation

public enum AttachmentError: Error, Equatable, Sendable {
    case tooLarge(limit: Int)
    case empty
    case pathInName(String)
    case invalidName
}

/// Rules for uploaded files: the name is only a label, the type comes from the content.
public enum AttachmentRules {
    public static let defaultLimit = 25 * 1024 * 1024

    /// A display name with no path: names with separators or `..` are refused, control characters removed.
    public static func sanitizedName(_ raw: String) throws(AttachmentError) -> String {
        if raw.contains("/") || raw.contains("\\") || raw.contains("\0") {
            throw .pathInName(raw)
        }
        let cleaned = String(String.UnicodeScalarView(raw.unicodeScalars.filter {
            !CharacterSet.controlCharacters.contains($0) && $0 != "\u{202E}" && $0 != "\u{202D}"
        })).trimmed()
        guard !cleaned.isEmpty, cleaned != ".", cleaned != ".." else { throw .invalidName }
        return String(cleaned.prefix(200))
    }

    public static func checkSize(_ size: Int, limit: Int) throws(AttachmentError) {
        guard size > 0 else { throw .empty }
        guard size <= limit else { throw .tooLarge(limit: limit) }
    }

    /// The stored media type, sniffed from the first bytes; the client's claim is ignored.
    /// Types a browser would execute (HTML, SVG, scripts) are never returned.
    public static func sniffType<Bytes: Collection<UInt8>>(_ head: Bytes, name: String) -> String {
        let b = Array(head.prefix(16))
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            b.count >= offset + magic.count && Array(b[offset..<offset + magic.count]) == magic
        }
        if starts([0x25, 0x50, 0x44, 0x46]) { return "application/pdf" }
        if starts([0x89, 0x50, 0x4E, 0x47]) { return "image/png" }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts(Array("GIF8".utf8)) { return "image/gif" }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return "image/webp" }
        if starts(Array("RIFF".utf8)) && starts(Array("WAVE".utf8), at: 8) { return "audio/wav" }
        // MP3: a tag, or an MPEG-1/2/2.5 layer III frame header (what telephone systems record calls as).
        if starts(Array("ID3".utf8)) || (b.count >= 2 && b[0] == 0xFF && [0xFB, 0xFA, 0xF3, 0xF2, 0xE3, 0xE2].contains(b[1])) { return "audio/mpeg" }
        if starts(Array("OggS".utf8)) { return "audio/ogg" }
        if starts(Array("fLaC".utf8)) { return "audio/flac" }
        if starts(Array("#!AMR".utf8)) { return "audio/amr" }
        // MP4 audio (a phone's voice recorder, voice messages) by its brand; other MP4 is video.
        if starts(Array("ftyp".utf8), at: 4) { return starts(Array("M4A ".utf8), at: 8) ? "audio/mp4" : "video/mp4" }
        if starts([0x50, 0x4B, 0x03, 0x04]) {
            switch (name as NSString).pathExtension.lowercased() {
            case "docx": return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            case "xlsx": return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            case "odt": return "application/vnd.oasis.opendocument.text"
            default: return "application/zip"
            }
        }
        if starts([0xD0, 0xCF, 0x11, 0xE0]) { return "application/msword" }
        let ext = (name as NSString).pathExtension.lowercased()
        if ["txt", "csv", "log"].contains(ext), isUTF8Start(b) || b.count < 16 {
            return ext == "csv" ? "text/csv" : "text/plain"
        }
        return "application/octet-stream"
    }

    /// Whether the bytes begin UTF-8 text: the first bytes of a file may end inside a multi-byte letter (Cyrillic,
    /// Persian), so a cut-off last sequence of up to three bytes is forgiven.
    static func isUTF8Start(_ bytes: [UInt8]) -> Bool {
        (0...min(3, bytes.count)).contains { String(bytes: bytes.dropLast($0), encoding: .utf8) != nil && ($0 == 0 || bytes[bytes.count - $0] >= 0xC0) }
    }

    /// Where content with this digest lives under the attachments folder: `ab/cd/abcd…`.
    public static func relativePath(sha256 hex: String) -> String {
        precondition(hex.count == 64 && hex.allSatisfy(\.isHexDigit))
        return "\(hex.prefix(2))/\(hex.dropFirst(2).prefix(2))/\(hex)"
    }
}

extension AttachmentRules {
    /// Extensions of programs and scripts a desktop would run on a double click.
    static let executableExtensions: Set<String> = [
        "exe", "com", "bat", "cmd", "scr", "pif", "msi", "msp", "dll", "cpl", "jar", "js", "jse", "vbs", "vbe", "wsf", "wsh",
        "ps1", "psm1", "sh", "bash", "app", "apk", "deb", "rpm", "dmg", "lnk", "hta", "reg", "html", "htm", "svg", "xhtml",
    ]

    /// Whether a file is a program: by its first bytes (Windows PE, ELF, Mach-O, a script's `#!`) or by its name.
    public static func isExecutable<Bytes: Collection<UInt8>>(_ head: Bytes, name: String) -> Bool {
        let b = Array(head.prefix(4))
        let magic: [[UInt8]] = [[0x4D, 0x5A], [0x7F, 0x45, 0x4C, 0x46], [0xFE, 0xED, 0xFA, 0xCE], [0xFE, 0xED, 0xFA, 0xCF],
                                [0xCE, 0xFA, 0xED, 0xFE], [0xCF, 0xFA, 0xED, 0xFE], [0xCA, 0xFE, 0xBA, 0xBE], [0x23, 0x21]]
        if magic.contains(where: { b.starts(with: $0) }) { return true }
        return executableExtensions.contains((name as NSString).pathExtension.lowercased())
    }

    /// What citizens may send through the public portal: what a reader opens safely (pictures, PDF, sound, video,
    /// office documents, plain text), judged by content; archives and unknown binaries are refused.
    public static func acceptedFromPublic<Bytes: Collection<UInt8>>(_ head: Bytes, name: String) -> Bool {
        guard !isExecutable(head, name: name) else { return false }
        let type = sniffType(head, name: name)
        return type != "application/octet-stream" && type != "application/zip"
    }
}
