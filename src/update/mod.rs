//! Signed update bundles (`*.hotline-update`): the new binary with its version, target triple
//! and SHA-256, signed with ed25519. Trusted public keys are compiled in by `build.rs` from
//! `keys/update-keys.txt` (two slots, so a key can be rotated).
//!
//! Layout: `MAGIC | u32 LE header length | header JSON | binary | 64-byte signature`, where
//! the signature covers the header JSON, and the header holds the binary's SHA-256 and size.

pub mod install;

use std::path::Path;

use ring::digest::{SHA256, digest};
use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

use crate::domain::audit::hex;

pub const MAGIC: &[u8; 8] = b"HLUPD\x00v1";
pub const EXT: &str = "hotline-update";

include!(concat!(env!("OUT_DIR"), "/update_keys.rs"));

/// The target triple this binary was built for.
pub const TARGET: &str = env!("HOTLINE_TARGET");

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub version: String,
    pub target: String,
    pub sha256: String,
    pub size: u64,
    /// Hex of the signing public key (which slot signed it).
    pub key: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    #[error("not an update bundle")]
    NotABundle,
    #[error("the bundle is damaged: {0}")]
    Damaged(String),
    #[error("the signature is not from a trusted key")]
    Untrusted,
    #[error("the signature does not match the bundle (tampered)")]
    BadSignature,
    #[error("the binary does not match its SHA-256 (tampered)")]
    BadHash,
    #[error("the bundle is for {found}, this box runs {expected}")]
    WrongTarget { found: String, expected: String },
    #[error("i/o error: {0}")]
    Io(String),
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Writes a new key pair: `update.key` (PKCS#8, hex) and `update.pub` (hex).
pub fn keygen(dir: &Path) -> Result<String, BundleError> {
    let io = |e: std::io::Error| BundleError::Io(e.to_string());
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| BundleError::Io("random source failed".into()))?;
    let kp = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| BundleError::Io("key generation failed".into()))?;
    std::fs::create_dir_all(dir).map_err(io)?;
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dir.join("update.key"))
            .map_err(io)?;
        f.write_all(hex(pkcs8.as_ref()).as_bytes()).map_err(io)?;
    }
    let public = hex(kp.public_key().as_ref());
    std::fs::write(dir.join("update.pub"), format!("{public}\n")).map_err(io)?;
    Ok(public)
}

/// Builds and signs a bundle.
pub fn sign(
    key_file: &Path,
    binary: &[u8],
    version: &str,
    target: &str,
) -> Result<Vec<u8>, BundleError> {
    let text = std::fs::read_to_string(key_file).map_err(|e| BundleError::Io(e.to_string()))?;
    let pkcs8 = from_hex(text.trim())
        .ok_or_else(|| BundleError::Io("the key file is not a hex PKCS#8 key".into()))?;
    let kp = Ed25519KeyPair::from_pkcs8(&pkcs8)
        .map_err(|_| BundleError::Io("the key file is not an ed25519 key".into()))?;
    let header = Header {
        version: version.to_string(),
        target: target.to_string(),
        sha256: hex(digest(&SHA256, binary).as_ref()),
        size: binary.len() as u64,
        key: hex(kp.public_key().as_ref()),
    };
    let json = serde_json::to_vec(&header).map_err(|e| BundleError::Io(e.to_string()))?;
    let sig = kp.sign(&json);
    let mut out = Vec::with_capacity(binary.len() + json.len() + 80);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(binary);
    out.extend_from_slice(sig.as_ref());
    Ok(out)
}

/// Checks a bundle against the compiled-in keys and this box's target; returns the header
/// and the binary.
pub fn verify(bundle: &[u8]) -> Result<(Header, &[u8]), BundleError> {
    verify_with(bundle, TRUSTED_KEYS, TARGET)
}

pub fn verify_with<'a>(
    bundle: &'a [u8],
    keys: &[&str],
    target: &str,
) -> Result<(Header, &'a [u8]), BundleError> {
    let rest = bundle
        .strip_prefix(MAGIC.as_slice())
        .ok_or(BundleError::NotABundle)?;
    let (len, rest) = rest
        .split_at_checked(4)
        .ok_or_else(|| BundleError::Damaged("truncated".into()))?;
    let hlen = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let (json, rest) = rest
        .split_at_checked(hlen)
        .ok_or_else(|| BundleError::Damaged("truncated header".into()))?;
    let header: Header =
        serde_json::from_slice(json).map_err(|e| BundleError::Damaged(e.to_string()))?;
    // The header is not trusted yet: every number in it is checked before use.
    let size = usize::try_from(header.size)
        .ok()
        .filter(|n| n.checked_add(64) == Some(rest.len()))
        .ok_or_else(|| BundleError::Damaged("the size does not match the header".into()))?;
    let (binary, sig) = rest
        .split_at_checked(size)
        .ok_or_else(|| BundleError::Damaged("truncated".into()))?;
    if !keys.iter().any(|k| k.eq_ignore_ascii_case(&header.key)) {
        return Err(BundleError::Untrusted);
    }
    let pk = from_hex(&header.key).ok_or(BundleError::Untrusted)?;
    UnparsedPublicKey::new(&ED25519, pk)
        .verify(json, sig)
        .map_err(|_| BundleError::BadSignature)?;
    if hex(digest(&SHA256, binary).as_ref()) != header.sha256 {
        return Err(BundleError::BadHash);
    }
    if header.target != target {
        return Err(BundleError::WrongTarget {
            found: header.target.clone(),
            expected: target.to_string(),
        });
    }
    Ok((header, binary))
}
