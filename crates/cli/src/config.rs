//! Configuration: command-line flags first, then `GONGZHI_*` environment variables (clap reads
//! both), then an optional TOML file (`--config` / `GONGZHI_CONFIG`), then defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use gongzhi_core::cases::attachment::AttachmentLimits;
use serde::Deserialize;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./gongzhi-data";

/// What the TOML file may set. Every key is optional; unknown keys are an error, so that a typo
/// does not silently fall back to a default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub log: Option<String>,
    pub index_refresh_seconds: Option<u64>,
    /// Largest photo accepted, in bytes (default 10 MB).
    pub attachment_max_bytes: Option<u64>,
    pub demo_seed: Option<u64>,
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> Result<FileConfig, String> {
        let Some(path) = path else {
            return Ok(FileConfig::default());
        };
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| {
            // toml's message names the line, the column and the key.
            format!("{}: {}", path.display(), e.to_string().trim_end())
        })
    }
}

/// The settings in force, after layering.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub index_refresh_seconds: u64,
    pub attachment_limits: AttachmentLimits,
}

impl Settings {
    pub fn resolve(
        listen: Option<SocketAddr>,
        data_dir: Option<PathBuf>,
        database_url: Option<String>,
        file: &FileConfig,
    ) -> Settings {
        let listen = listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("default address"));
        let data_dir = data_dir
            .or_else(|| file.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = database_url
            .or_else(|| file.database_url.clone())
            .unwrap_or_else(|| gongzhi_store::Db::sqlite_url_in(&data_dir));
        Settings {
            listen,
            data_dir,
            database_url,
            index_refresh_seconds: file.index_refresh_seconds.unwrap_or(2).max(1),
            attachment_limits: AttachmentLimits {
                max_bytes: file
                    .attachment_max_bytes
                    .unwrap_or(AttachmentLimits::DEFAULT_MAX_BYTES)
                    .max(1),
            },
        }
    }

    pub fn uses_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let file: FileConfig = toml::from_str("listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/gz\"").unwrap();
        let s = Settings::resolve(Some("127.0.0.1:7000".parse().unwrap()), None, None, &file);
        assert_eq!(s.listen.port(), 7000);
        assert_eq!(s.data_dir, PathBuf::from("/srv/gz"));
        assert_eq!(s.database_url, "sqlite:/srv/gz/gongzhi.sqlite3");
        let d = Settings::resolve(None, None, None, &FileConfig::default());
        assert_eq!(d.listen.to_string(), DEFAULT_LISTEN);
        assert!(d.uses_sqlite());
        assert_eq!(d.attachment_limits.max_bytes, 10 * 1024 * 1024);
        let small: FileConfig = toml::from_str("attachment_max_bytes = 2097152").unwrap();
        let s = Settings::resolve(None, None, None, &small);
        assert_eq!(s.attachment_limits.max_bytes, 2 * 1024 * 1024);
    }

    #[test]
    fn a_typo_in_the_file_is_an_error_naming_the_key() {
        let e = toml::from_str::<FileConfig>("lisen = \"x\"").unwrap_err().to_string();
        assert!(e.contains("lisen"), "{e}");
    }
}
