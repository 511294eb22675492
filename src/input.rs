//! Files the CLI and the config loader read: regular files only, under a
//! size cap, so `/dev/zero` cannot grow the process until the OOM killer
//! comes and a FIFO cannot block it forever.

use std::io::Read;
use std::path::Path;

/// Largest config file read (the shipped one is ~10 KB).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// Largest Markdown document `sources import` reads.
pub const MAX_IMPORT_BYTES: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a regular file (a device, FIFO or folder cannot be read as a document)")]
    NotAFile { path: String },
    #[error("{path} is larger than {max} bytes")]
    TooLarge { path: String, max: u64 },
    #[error("{path} is not UTF-8 text")]
    NotText { path: String },
}

/// Reads a UTF-8 text file of at most `max` bytes.
pub fn read_text_file(path: &Path, max: u64) -> Result<String, InputError> {
    let shown = path.display().to_string();
    let io = |source| InputError::Io { path: shown.clone(), source };
    // Checked on the open handle, not the name: the file cannot be swapped
    // for a FIFO between the check and the read. Opening a FIFO for
    // reading would block, so the name is checked first too.
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(InputError::NotAFile { path: shown });
    }
    let file = std::fs::File::open(path).map_err(io)?;
    if !file.metadata().map_err(io)?.is_file() {
        return Err(InputError::NotAFile { path: shown });
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(InputError::TooLarge { path: shown, max });
    }
    String::from_utf8(bytes).map_err(|_| InputError::NotText { path: shown })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Issue 14 finding 9: `/dev/zero` grew the process ~1.5 GB/s.
    #[test]
    fn issue14_devices_and_folders_are_refused_at_once() {
        assert!(matches!(read_text_file(Path::new("/dev/zero"), 1024), Err(InputError::NotAFile { .. })));
        assert!(matches!(read_text_file(Path::new("/tmp"), 1024), Err(InputError::NotAFile { .. })));
    }

    #[test]
    fn size_cap_and_utf8_are_enforced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.md");
        std::fs::write(&p, "x".repeat(2000)).unwrap();
        assert!(matches!(read_text_file(&p, 1000), Err(InputError::TooLarge { max: 1000, .. })));
        assert_eq!(read_text_file(&p, 2000).unwrap().len(), 2000);
        std::fs::write(&p, [0xff, 0xfe, 0x00]).unwrap();
        assert!(matches!(read_text_file(&p, 1000), Err(InputError::NotText { .. })));
    }
}
