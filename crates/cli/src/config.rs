//! Configuration: command-line flags first, then `GONGZHI_*` environment variables (clap reads
//! both), then an optional TOML file (`--config` / `GONGZHI_CONFIG`), then defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use gongzhi_core::audit::AuditKey;
use gongzhi_core::cases::attachment::AttachmentLimits;
use gongzhi_core::people::cipher::SoftwareCipher;
use gongzhi_core::people::registry::IdMaskPolicy;
use gongzhi_core::{Lang, Localized};
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
    /// Longest side of a photo accepted, in pixels (default 12000), read from its header.
    pub attachment_max_side: Option<u32>,
    /// Most pixels (width × height) of a photo accepted (default 50000000).
    pub attachment_max_pixels: Option<u64>,
    pub demo_seed: Option<u64>,
    /// A file holding the audit key (hex or base64).
    pub audit_key_file: Option<PathBuf>,
    /// The audit key itself (hex or base64); prefer `audit_key_file` with mode 0600.
    pub audit_key: Option<String>,
    /// The file holding the audit record's signed checkpoint, outside the database (default
    /// `DATA_DIR/audit.checkpoint`).
    pub audit_checkpoint_file: Option<PathBuf>,
    /// Minutes between the checkpoints `serve` writes (default 10; 0: only `gongzhi audit
    /// checkpoint` writes them).
    pub audit_checkpoint_minutes: Option<u64>,
    /// A command given each new checkpoint on its standard input, as program and arguments
    /// (no shell), e.g. `["logger", "-t", "gongzhi-audit"]`.
    pub audit_witness: Option<Vec<String>>,
    /// Password, lockout and session rules (`[security]`); unset keys keep their defaults.
    pub security: Option<gongzhi_core::people::policy::SecurityPolicy>,
    /// How residents' sign-in codes are sent: `log` (to the server log, for development only)
    /// or `none` (residents cannot sign in). `serve` defaults to `none`, `demo` to `log`.
    pub sms_gateway: Option<String>,
    /// A file holding the personal-data key of the registry (64 hex digits, mode 0600): seals ID
    /// numbers, phones, exact addresses, party membership and care tags. Never in the database.
    pub personal_data_key_file: Option<PathBuf>,
    /// The personal-data key itself (64 hex digits); prefer `personal_data_key_file`.
    pub personal_data_key: Option<String>,
    /// How lists mask ID numbers: `H+T` characters kept at the head and tail (default `1+1`;
    /// `6+4` keeps the division).
    pub id_number_mask: Option<String>,
    /// The address clients reach this server at (`https://gongzhi.example.gov.cn`), as Open311
    /// discovery publishes it; by default `http://` and the listen address. Never taken from a
    /// request's `Host` header, which the client chooses. With `https://`, cookies are Secure.
    pub public_url: Option<String>,
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
    pub security: gongzhi_core::people::policy::SecurityPolicy,
    /// `log`, `none` or unset (as `none`).
    pub sms_gateway: Option<String>,
    /// How lists mask ID numbers (`id_number_mask`; a malformed value keeps the default here and
    /// is refused by `id_mask_policy` when a command starts).
    pub id_mask: IdMaskPolicy,
    /// The address clients reach this server at (`public_url`, without a trailing `/`), when
    /// configured; see [`Settings::public_url`].
    pub public_url: Option<String>,

    /// Where the audit record's end is anchored (checkpoint file, witness command).
    pub audit_anchor: gongzhi_app::audit::Anchor,
    /// Minutes between the checkpoints `serve` writes; 0 for none.
    pub audit_checkpoint_minutes: u64,
}

/// The checkpoint file's name in the data folder, beside the demo's key.
pub const CHECKPOINT_FILE: &str = "audit.checkpoint";
/// Minutes between the checkpoints `serve` writes, unless configured.
pub const DEFAULT_CHECKPOINT_MINUTES: u64 = 10;

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
            database_url,
            index_refresh_seconds: file.index_refresh_seconds.unwrap_or(2).max(1),
            attachment_limits: AttachmentLimits {
                max_bytes: file
                    .attachment_max_bytes
                    .unwrap_or(AttachmentLimits::DEFAULT_MAX_BYTES)
                    .max(1),
                max_side: file
                    .attachment_max_side
                    .unwrap_or(AttachmentLimits::DEFAULT_MAX_SIDE)
                    .max(1),
                max_pixels: file
                    .attachment_max_pixels
                    .unwrap_or(AttachmentLimits::DEFAULT_MAX_PIXELS)
                    .max(1),
            },
            security: file.security.clone().unwrap_or_default(),
            id_mask: id_mask_policy(file).unwrap_or_default(),
            sms_gateway: file.sms_gateway.clone(),
            public_url: file.public_url.as_deref().map(|u| u.trim_end_matches('/').to_string()),

            audit_anchor: gongzhi_app::audit::Anchor {
                file: file
                    .audit_checkpoint_file
                    .clone()
                    .unwrap_or_else(|| data_dir.join(CHECKPOINT_FILE)),
                witness: file
                    .audit_witness
                    .clone()
                    .filter(|w| w.first().is_some_and(|p| !p.trim().is_empty()))
                    .unwrap_or_default(),
            },
            audit_checkpoint_minutes: file.audit_checkpoint_minutes.unwrap_or(DEFAULT_CHECKPOINT_MINUTES),
            data_dir,
        }
    }

    /// The settings whose changes the audit record keeps (`gongzhi_app::audit::configuration`):
    /// every rule of the server, never a key nor the database URL (which may hold a password).
    pub fn audited(&self) -> serde_json::Value {
        serde_json::json!({
            "index_refresh_seconds": self.index_refresh_seconds,
            "attachment_max_bytes": self.attachment_limits.max_bytes,
            "attachment_max_side": self.attachment_limits.max_side,
            "attachment_max_pixels": self.attachment_limits.max_pixels,
            "security": self.security,
            "sms_gateway": self.sms_gateway,
            "id_number_mask": format!("{}+{}", self.id_mask.head, self.id_mask.tail),
            "public_url": self.public_url,
        })
    }

    /// The address clients reach this server at: `public_url`, else `http://` and the listen
    /// address.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    pub fn uses_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// The environment variable that may hold the audit key itself. It is read directly rather
/// than offered as a flag, so that the key never appears in a process list.
pub const AUDIT_KEY_ENV: &str = "GONGZHI_AUDIT_KEY";
/// Where `gongzhi demo` keeps the key it generates: beside the database, not inside it.
pub const DEMO_KEY_FILE: &str = "audit.key";

/// Where the audit key in force came from, for the log (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Flag(PathBuf),
    Env,
    FileSetting(PathBuf),
    FileValue,
    DemoGenerated(PathBuf),
    DemoFile(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Flag(p) => write!(f, "--audit-key-file {}", p.display()),
            KeySource::Env => f.write_str(AUDIT_KEY_ENV),
            KeySource::FileSetting(p) => write!(f, "audit_key_file {}", p.display()),
            KeySource::FileValue => f.write_str("audit_key"),
            KeySource::DemoGenerated(p) => write!(f, "{} (generated)", p.display()),
            KeySource::DemoFile(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Reads a key file: its text, trimmed, is the key in hex or base64.
pub fn read_key_file(path: &Path, lang: Lang) -> Result<AuditKey, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "{}: {}{e}",
            path.display(),
            lang.pick("无法读取审计密钥文件：", "cannot read the audit key file: ")
        )
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(file = %path.display(), "the audit key file can be read by other users; chmod 600 it");
        }
    }
    AuditKey::parse(&text).map_err(|e| format!("{}: {}", path.display(), e.message(lang)))
}

/// The configured audit key, in order: `--audit-key-file` (or `GONGZHI_AUDIT_KEY_FILE`),
/// `GONGZHI_AUDIT_KEY`, the TOML file's `audit_key_file`, then its `audit_key`. `None` when
/// none is set. Never from the database.
pub fn configured_audit_key(
    flag_file: Option<&Path>,
    env_key: Option<&str>,
    file: &FileConfig,
    lang: Lang,
) -> Result<Option<(AuditKey, KeySource)>, String> {
    if let Some(path) = flag_file {
        return Ok(Some((read_key_file(path, lang)?, KeySource::Flag(path.to_path_buf()))));
    }
    if let Some(text) = env_key.filter(|t| !t.trim().is_empty()) {
        let key = AuditKey::parse(text).map_err(|e| format!("{AUDIT_KEY_ENV}: {}", e.message(lang)))?;
        return Ok(Some((key, KeySource::Env)));
    }
    if let Some(path) = &file.audit_key_file {
        return Ok(Some((read_key_file(path, lang)?, KeySource::FileSetting(path.clone()))));
    }
    if let Some(text) = &file.audit_key {
        let key = AuditKey::parse(text).map_err(|e| format!("audit_key: {}", e.message(lang)))?;
        return Ok(Some((key, KeySource::FileValue)));
    }
    Ok(None)
}

/// Commands other than `demo` need a configured key; this says how to give one.
pub fn no_key_message(data_dir: &Path, lang: Lang) -> String {
    let demo_key = data_dir.join(DEMO_KEY_FILE);
    let mut m = lang
        .pick(
            "未配置审计密钥：请用 --audit-key-file 文件、环境变量 GONGZHI_AUDIT_KEY 或配置文件中的 audit_key_file 提供（十六进制或Base64，至少16字节）",
            "no audit key configured: give one with --audit-key-file FILE, the GONGZHI_AUDIT_KEY environment variable, or audit_key_file in the configuration file (hex or base64, at least 16 bytes)",
        )
        .to_string();
    if demo_key.exists() {
        m.push_str(&match lang {
            Lang::Zh => format!("；演示数据的密钥在 {}", demo_key.display()),
            Lang::En => format!("; the demo's key is in {}", demo_key.display()),
        });
    }
    m
}

/// For `gongzhi demo` without a configured key: the key in `DIR/audit.key`, generated (32
/// random bytes, hex, mode 0600) on first use.
pub fn demo_audit_key(data_dir: &Path, lang: Lang) -> Result<(AuditKey, KeySource), String> {
    let path = data_dir.join(DEMO_KEY_FILE);
    if path.exists() {
        return Ok((read_key_file(&path, lang)?, KeySource::DemoFile(path)));
    }
    gongzhi_store::create_data_dir(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for the audit key: {e}"))?;
    let key = AuditKey::from_bytes(&bytes).map_err(|e| e.to_string())?;
    bytes.fill(0);
    let mut options = std::fs::OpenOptions::new();
    // create_new: never overwrite a key, which would orphan the chain it sealed.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    std::io::Write::write_all(&mut f, format!("{}\n", key.expose_hex()).as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((key, KeySource::DemoGenerated(path)))
}

/// The environment variable that may hold the personal-data key itself (64 hex digits).
pub const PERSONAL_DATA_KEY_ENV: &str = "GONGZHI_PERSONAL_DATA_KEY";
/// Where `gongzhi demo` keeps the personal-data key it generates: beside the database.
pub const DEMO_PERSONAL_DATA_KEY_FILE: &str = "personal-data.key";

fn read_personal_data_key_file(path: &Path, lang: Lang) -> Result<SoftwareCipher, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "{}: {}{e}",
            path.display(),
            lang.pick("无法读取个人信息密钥文件：", "cannot read the personal-data key file: ")
        )
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(file = %path.display(), "the personal-data key file can be read by other users; chmod 600 it");
        }
    }
    SoftwareCipher::from_hex(&text).map_err(|_| format!("{}: {}", path.display(), bad_personal_data_key(lang)))
}

fn bad_personal_data_key(lang: Lang) -> &'static str {
    lang.pick(
        "个人信息密钥应为32字节，即64位十六进制数字",
        "the personal-data key must be 32 bytes as 64 hex digits",
    )
}

/// The configured personal-data key as the software cipher provider, in order:
/// `--personal-data-key-file` (or `GONGZHI_PERSONAL_DATA_KEY_FILE`), `GONGZHI_PERSONAL_DATA_KEY`,
/// the TOML file's `personal_data_key_file`, then its `personal_data_key`; with where it came from
/// (for the log, never the key). `None` when none is set. Never from the database.
pub fn configured_personal_data_key(
    flag_file: Option<&Path>,
    env_key: Option<&str>,
    file: &FileConfig,
    lang: Lang,
) -> Result<Option<(SoftwareCipher, String)>, String> {
    if let Some(path) = flag_file {
        let c = read_personal_data_key_file(path, lang)?;
        return Ok(Some((c, format!("--personal-data-key-file {}", path.display()))));
    }
    if let Some(text) = env_key.filter(|t| !t.trim().is_empty()) {
        let c = SoftwareCipher::from_hex(text)
            .map_err(|_| format!("{PERSONAL_DATA_KEY_ENV}: {}", bad_personal_data_key(lang)))?;
        return Ok(Some((c, PERSONAL_DATA_KEY_ENV.to_string())));
    }
    if let Some(path) = &file.personal_data_key_file {
        let c = read_personal_data_key_file(path, lang)?;
        return Ok(Some((c, format!("personal_data_key_file {}", path.display()))));
    }
    if let Some(text) = &file.personal_data_key {
        let c = SoftwareCipher::from_hex(text)
            .map_err(|_| format!("personal_data_key: {}", bad_personal_data_key(lang)))?;
        return Ok(Some((c, "personal_data_key".to_string())));
    }
    Ok(None)
}

/// `serve` refuses to start without a personal-data key once the registry holds records; this
/// says how to give one.
pub fn no_personal_data_key_message(data_dir: &Path, lang: Lang) -> String {
    let demo_key = data_dir.join(DEMO_PERSONAL_DATA_KEY_FILE);
    let mut m = lang
        .pick(
            "登记库中已有个人信息，但未配置个人信息密钥：请用 --personal-data-key-file 文件、环境变量 GONGZHI_PERSONAL_DATA_KEY 或配置文件中的 personal_data_key_file 提供（64位十六进制数字）",
            "the registry holds personal data but no personal-data key is configured: give one with --personal-data-key-file FILE, the GONGZHI_PERSONAL_DATA_KEY environment variable, or personal_data_key_file in the configuration file (64 hex digits)",
        )
        .to_string();
    if demo_key.exists() {
        m.push_str(&match lang {
            Lang::Zh => format!("；演示数据的密钥在 {}", demo_key.display()),
            Lang::En => format!("; the demo's key is in {}", demo_key.display()),
        });
    }
    m
}

/// For `gongzhi demo` without a configured key: the personal-data key in
/// `DIR/personal-data.key`, generated (32 random bytes, hex, mode 0600) on first use.
pub fn demo_personal_data_key(data_dir: &Path, lang: Lang) -> Result<(SoftwareCipher, String), String> {
    let path = data_dir.join(DEMO_PERSONAL_DATA_KEY_FILE);
    if path.exists() {
        return Ok((read_personal_data_key_file(&path, lang)?, path.display().to_string()));
    }
    gongzhi_store::create_data_dir(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let cipher = generate_personal_data_key_file(&path)?;
    Ok((cipher, format!("{} (generated)", path.display())))
}

/// The personal-data key in `path`, or, when there is no such file, a new one generated there
/// (32 random bytes as hex, mode 0600); whether it was generated.
pub fn personal_data_key_file_or_new(path: &Path, lang: Lang) -> Result<(SoftwareCipher, bool), String> {
    if path.exists() {
        Ok((read_personal_data_key_file(path, lang)?, false))
    } else {
        Ok((generate_personal_data_key_file(path)?, true))
    }
}

/// Writes a new random personal-data key to `path` (never over an existing file) and returns it.
fn generate_personal_data_key_file(path: &Path) -> Result<SoftwareCipher, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for the personal-data key: {e}"))?;
    let cipher = SoftwareCipher::new(&bytes);
    let mut hex_key = hex::encode(bytes);
    bytes.fill(0);
    let mut options = std::fs::OpenOptions::new();
    // create_new: never overwrite a key, which would leave every sealed value unreadable.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(path).and_then(|mut f| {
        std::io::Write::write_all(&mut f, format!("{hex_key}\n").as_bytes())?;
        f.sync_all()
    });
    hex_key.clear();
    written.map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(cipher)
}

/// The ID-number masking policy in force (`id_number_mask`, default `1+1`).
pub fn id_mask_policy(file: &FileConfig) -> Result<IdMaskPolicy, String> {
    match &file.id_number_mask {
        None => Ok(IdMaskPolicy::default()),
        Some(text) => IdMaskPolicy::parse(text)
            .ok_or_else(|| format!("id_number_mask: {text:?} should be H+T, e.g. 1+1 or 6+4 (at most 14 kept)")),
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
        assert_eq!(
            (d.attachment_limits.max_side, d.attachment_limits.max_pixels),
            (12_000, 50_000_000)
        );
        let pixels: FileConfig = toml::from_str("attachment_max_side = 4000\nattachment_max_pixels = 8000000").unwrap();
        let s = Settings::resolve(None, None, None, &pixels);
        assert_eq!(
            (s.attachment_limits.max_side, s.attachment_limits.max_pixels),
            (4000, 8_000_000)
        );
    }

    #[test]
    fn a_typo_in_the_file_is_an_error_naming_the_key() {
        let e = toml::from_str::<FileConfig>("lisen = \"x\"").unwrap_err().to_string();
        assert!(e.contains("lisen"), "{e}");
    }

    #[test]
    fn the_audit_key_comes_from_flag_then_env_then_file() {
        let dir = std::env::temp_dir().join(format!("gongzhi-key-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let flag_file = dir.join("flag.key");
        std::fs::write(&flag_file, "00112233445566778899aabbccddeeff\n").unwrap();
        let file: FileConfig = toml::from_str("audit_key = \"ffeeddccbbaa99887766554433221100\"").unwrap();
        let from = |flag: Option<&Path>, env: Option<&str>| {
            configured_audit_key(flag, env, &file, Lang::En).unwrap().unwrap().1
        };
        assert_eq!(from(Some(&flag_file), Some("aa")), KeySource::Flag(flag_file.clone()));
        assert_eq!(from(None, Some("ffeeddccbbaa99887766554433221100aa")), KeySource::Env);
        assert_eq!(from(None, None), KeySource::FileValue);
        assert!(
            configured_audit_key(None, None, &FileConfig::default(), Lang::En)
                .unwrap()
                .is_none()
        );

        let e = configured_audit_key(None, Some("0011"), &file, Lang::En).unwrap_err();
        assert!(e.starts_with("GONGZHI_AUDIT_KEY: the audit key is 2 bytes"), "{e}");
        let e = configured_audit_key(Some(&dir.join("missing.key")), None, &file, Lang::Zh).unwrap_err();
        assert!(e.contains("missing.key") && e.contains("无法读取"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_demo_generates_its_key_once_beside_the_database() {
        let dir = std::env::temp_dir().join(format!("gongzhi-demo-key-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (key, source) = demo_audit_key(&dir, Lang::En).unwrap();
        let path = dir.join(DEMO_KEY_FILE);
        assert_eq!(source, KeySource::DemoGenerated(path.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let (again, source) = demo_audit_key(&dir, Lang::En).unwrap();
        assert_eq!(source, KeySource::DemoFile(path));
        assert_eq!(again, key, "the key changed between runs");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_demo_generates_its_personal_data_key_once_with_mode_0600() {
        use gongzhi_core::people::cipher::CipherProvider;
        let dir = std::env::temp_dir().join(format!("gz-pdkey-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (first, source) = demo_personal_data_key(&dir, Lang::En).unwrap();
        assert!(source.ends_with("(generated)"));
        let (again, source) = demo_personal_data_key(&dir, Lang::En).unwrap();
        assert!(!source.ends_with("(generated)"));
        assert_eq!(first.index("t.c", "x"), again.index("t.c", "x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(DEMO_PERSONAL_DATA_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let file: FileConfig = toml::from_str("personal_data_key = \"abc\"").unwrap();
        assert!(
            configured_personal_data_key(None, None, &file, Lang::En)
                .unwrap_err()
                .contains("64 hex")
        );
        assert!(
            configured_personal_data_key(None, None, &FileConfig::default(), Lang::En)
                .unwrap()
                .is_none()
        );
        let masked: FileConfig = toml::from_str("id_number_mask = \"6+4\"").unwrap();
        assert_eq!(id_mask_policy(&masked).unwrap(), IdMaskPolicy { head: 6, tail: 4 });
        let _ = std::fs::remove_dir_all(&dir);
    }
}
