//! Product images: which formats are accepted and how they are recognised.
//! The declared content type must agree with the file's magic bytes, so a
//! file is always served as what it really is.

string_enum!(
    ImageType {
        Png => "image/png",
        Jpeg => "image/jpeg",
        Gif => "image/gif",
        Webp => "image/webp",
    }
);

/// At most this many screenshots per product.
pub const IMAGES_MAX: usize = 8;

impl ImageType {
    /// File extension used when storing the file.
    pub const fn extension(self) -> &'static str {
        match self {
            ImageType::Png => "png",
            ImageType::Jpeg => "jpg",
            ImageType::Gif => "gif",
            ImageType::Webp => "webp",
        }
    }

    /// The type a `Content-Type` header declares (parameters ignored).
    pub fn from_content_type(header: &str) -> Option<ImageType> {
        let essence = header.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        ImageType::parse(&essence)
    }

    /// The type the bytes really are, by their signature.
    pub fn sniff(bytes: &[u8]) -> Option<ImageType> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageType::Png)
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(ImageType::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(ImageType::Gif)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageType::Webp)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_and_sniffed_types() {
        assert_eq!(ImageType::from_content_type("image/PNG; charset=x"), Some(ImageType::Png));
        assert_eq!(ImageType::from_content_type("image/svg+xml"), None);
        assert_eq!(ImageType::sniff(b"\x89PNG\r\n\x1a\n...."), Some(ImageType::Png));
        assert_eq!(ImageType::sniff(&[0xff, 0xd8, 0xff, 0xe0]), Some(ImageType::Jpeg));
        assert_eq!(ImageType::sniff(b"GIF89a..."), Some(ImageType::Gif));
        assert_eq!(ImageType::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageType::Webp));
        assert_eq!(ImageType::sniff(b"<svg>"), None);
        assert_eq!(ImageType::sniff(b""), None);
    }
}
