//! Personal data at rest (security-cn §2): ID numbers, phone numbers, exact addresses, party
//! membership and care tags are sealed with SM4 (GB/T 32907) in GCM, an authenticated mode, with a
//! random nonce per value; tampering or a value moved to another column fails to open. Exact
//! lookup goes through a keyed HMAC-SM3 index. The keys sit behind [`CipherProvider`], so that a
//! certified cryptographic module can hold them in production; [`SoftwareCipher`] takes its key
//! from configuration, never from the database.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{AesGcm, Nonce};
use base64::Engine;
use hmac::Mac;
use thiserror::Error;
use zeroize::{ZeroizeOnDrop, Zeroizing};

type Sm4Gcm = AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;
type HmacSm3 = hmac::Hmac<sm3::Sm3>;

/// The first byte of every sealed value: the format, so that keys and modes can change later.
const FORMAT: u8 = 1;
const NONCE_LEN: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CipherError {
    /// Tampered with, sealed for another column, sealed with another key, or cut short.
    #[error("a sealed value does not open: changed, moved or sealed with another key")]
    Tampered,
    #[error("the personal-data key must be 32 bytes as 64 hex digits")]
    BadKey,
}

/// Seals and opens personal data, and gives the keyed index for exact lookup.
pub trait CipherProvider: Send + Sync {
    /// Seals `plain` for `context` (the table and column, e.g. `residents.id_number`), which is
    /// authenticated with it.
    fn seal(&self, context: &str, plain: &[u8]) -> Vec<u8>;
    fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, CipherError>;
    /// The keyed index of a value in `context`: equal values give equal indexes, nothing else
    /// can be read from it.
    fn index(&self, context: &str, plain: &str) -> String;

    /// Text sealed as base64, for text columns.
    fn seal_text(&self, context: &str, plain: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.seal(context, plain.as_bytes()))
    }

    fn open_text(&self, context: &str, sealed: &str) -> Result<String, CipherError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| CipherError::Tampered)?;
        String::from_utf8(self.open(context, &bytes)?).map_err(|_| CipherError::Tampered)
    }
}

/// The software provider: one 32-byte key from configuration, from which an SM4 key and an
/// index key are derived (HMAC-SM3 under distinct labels), so the two uses never share a key.
/// Its keys are wiped when it is dropped (the SM4 key schedule by `sm4`'s `zeroize` feature).
pub struct SoftwareCipher {
    aead: Sm4Gcm,
    index_key: Zeroizing<Vec<u8>>,
}

impl ZeroizeOnDrop for SoftwareCipher {}

fn derive(master: &[u8], label: &str) -> Zeroizing<Vec<u8>> {
    let mut mac = <HmacSm3 as hmac::KeyInit>::new_from_slice(master).expect("HMAC takes any key length");
    mac.update(label.as_bytes());
    Zeroizing::new(mac.finalize().into_bytes().to_vec())
}

impl SoftwareCipher {
    pub fn new(master: &[u8; 32]) -> SoftwareCipher {
        let key = derive(master, "gongzhi personal data sm4-gcm v1");
        SoftwareCipher {
            aead: Sm4Gcm::new_from_slice(&key[..16]).expect("SM4 takes a 16-byte key"),
            index_key: derive(master, "gongzhi personal data index v1"),
        }
    }

    /// The key as configured: 64 hex digits.
    pub fn from_hex(hex_key: &str) -> Result<SoftwareCipher, CipherError> {
        let bytes = Zeroizing::new(hex::decode(hex_key.trim()).map_err(|_| CipherError::BadKey)?);
        let master: Zeroizing<[u8; 32]> = Zeroizing::new(bytes.as_slice().try_into().map_err(|_| CipherError::BadKey)?);
        Ok(SoftwareCipher::new(&master))
    }
}

/// Never print a key.
impl std::fmt::Debug for SoftwareCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SoftwareCipher(…)")
    }
}

impl CipherProvider for SoftwareCipher {
    fn seal(&self, context: &str, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the operating system gives random bytes");
        let sealed = self
            .aead
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .expect("GCM encrypts any length a column holds");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, CipherError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != FORMAT {
            return Err(CipherError::Tampered);
        }
        let (nonce, body) = sealed[1..].split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CipherError::Tampered)?;
        self.aead
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CipherError::Tampered)
    }

    fn index(&self, context: &str, plain: &str) -> String {
        let mut mac = <HmacSm3 as hmac::KeyInit>::new_from_slice(&self.index_key).expect("any key length");
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(plain.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    /// SM4-GCM as built here (the `aes-gcm` crate's generic GCM over `sm4`) gives RFC 8998's
    /// known answer (Appendix A.1), so sealed values can be opened by any conforming SM4-GCM.
    #[test]
    fn sm4_gcm_gives_the_rfc_8998_vector() {
        use aes_gcm::aead::{Aead, KeyInit, Payload};
        let h = |s: &str| hex::decode(s).unwrap();
        let aead = super::Sm4Gcm::new_from_slice(&h("0123456789ABCDEFFEDCBA9876543210")).unwrap();
        let nonce: [u8; 12] = h("00001234567800000000ABCD").try_into().unwrap();
        let plaintext = h(concat!(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
            "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
        ));
        let sealed = aead
            .encrypt(
                &aes_gcm::Nonce::from(nonce),
                Payload {
                    msg: &plaintext,
                    aad: &h("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2"),
                },
            )
            .unwrap();
        let expected = concat!(
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735",
            "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
            "83DE3541E4C2B58177E065A9BF7B62EC"
        );
        assert_eq!(hex::encode_upper(sealed), expected);
    }

    /// Key material is wiped on drop (GB/T 22239 §8.1.4.10; security-cn testable 40): a
    /// compile-time check that each key holder is `ZeroizeOnDrop`.
    #[test]
    fn keys_are_wiped_when_dropped() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<super::SoftwareCipher>();
        wiped_on_drop::<sm4::Sm4>();
        wiped_on_drop::<crate::audit::AuditKey>();
        wiped_on_drop::<zeroize::Zeroizing<Vec<u8>>>();
    }

    use super::*;

    fn cipher() -> SoftwareCipher {
        SoftwareCipher::new(&[7u8; 32])
    }

    const ID: &str = "residents.id_number";

    #[test]
    fn a_value_opens_again_and_shows_nothing_of_itself() {
        let c = cipher();
        let sealed = c.seal_text(ID, "23090319800101123X");
        assert!(!sealed.contains("1980"));
        assert_eq!(c.open_text(ID, &sealed).unwrap(), "23090319800101123X");
    }

    #[test]
    fn each_seal_has_its_own_nonce() {
        let c = cipher();
        assert_ne!(c.seal(ID, b"13800000000"), c.seal(ID, b"13800000000"));
    }

    #[test]
    fn tampering_moving_or_another_key_is_detected() {
        let c = cipher();
        let mut sealed = c.seal(ID, b"13800000000");
        assert_eq!(c.open("residents.phone", &sealed), Err(CipherError::Tampered));
        assert_eq!(
            SoftwareCipher::new(&[8u8; 32]).open(ID, &sealed),
            Err(CipherError::Tampered)
        );
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(c.open(ID, &sealed), Err(CipherError::Tampered));
        assert_eq!(c.open(ID, &sealed[..10]), Err(CipherError::Tampered));
        assert_eq!(c.open_text(ID, "not base64!"), Err(CipherError::Tampered));
    }

    #[test]
    fn the_index_finds_equal_values_only_within_a_column() {
        let c = cipher();
        assert_eq!(c.index(ID, "13800000000"), c.index(ID, "13800000000"));
        assert_ne!(c.index(ID, "13800000000"), c.index(ID, "13800000001"));
        assert_ne!(c.index(ID, "13800000000"), c.index("residents.phone", "13800000000"));
        assert_ne!(
            c.index(ID, "13800000000"),
            SoftwareCipher::new(&[8u8; 32]).index(ID, "13800000000")
        );
    }

    #[test]
    fn a_configured_key_is_64_hex_digits() {
        assert!(SoftwareCipher::from_hex(&"ab".repeat(32)).is_ok());
        assert_eq!(SoftwareCipher::from_hex("abc").unwrap_err(), CipherError::BadKey);
        assert_eq!(
            SoftwareCipher::from_hex(&"zz".repeat(32)).unwrap_err(),
            CipherError::BadKey
        );
        assert_eq!(format!("{:?}", cipher()), "SoftwareCipher(…)");
    }
}
