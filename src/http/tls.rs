//! TLS: a local CA and server certificate made at first start, reused after, and served
//! through a resolver whose certificate can be swapped without a restart.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use ring::digest::{SHA256, digest};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use serde::{Deserialize, Serialize};

const CA_CERT: &str = "ca.pem";
const CA_KEY: &str = "ca.key";
const SERVER_CERT: &str = "server.pem";
const SERVER_KEY: &str = "server.key";
const SERVER_INFO: &str = "server.json";
/// A certificate the admin uploaded (used instead of the local one while valid).
const CUSTOM_CERT: &str = "custom.pem";
const CUSTOM_KEY: &str = "custom.key";
/// Leaf certificates are reissued when this close to expiry.
const RENEW_BEFORE_DAYS: i64 = 30;
const LEAF_DAYS: i64 = 825;
const CA_YEARS: i64 = 20;

/// What the server certificate was made for, so a later start knows when to reissue.
#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct LeafInfo {
    names: Vec<String>,
    not_after_unix: i64,
}

/// The certificate in use, with what the admin needs to see about it.
#[derive(Clone, Debug)]
pub struct CertSummary {
    pub fingerprint_sha256: String,
    pub ca_fingerprint_sha256: Option<String>,
    pub not_after_unix: i64,
    /// Uploaded by the admin, rather than made by the box.
    pub uploaded: bool,
}

/// Hands rustls the current certificate; `replace` swaps it for new connections.
#[derive(Debug)]
pub struct CertResolver {
    current: RwLock<(Arc<CertifiedKey>, CertSummary)>,
}

impl CertResolver {
    pub fn new(key: CertifiedKey, summary: CertSummary) -> Self {
        Self {
            current: RwLock::new((Arc::new(key), summary)),
        }
    }
    pub fn replace(&self, key: CertifiedKey, summary: CertSummary) {
        let new = (Arc::new(key), summary);
        match self.current.write() {
            Ok(mut g) => *g = new,
            Err(p) => *p.into_inner() = new,
        }
    }
    /// What the admin sees about the certificate in use.
    pub fn summary(&self) -> CertSummary {
        match self.current.read() {
            Ok(g) => g.1.clone(),
            Err(p) => p.into_inner().1.clone(),
        }
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(match self.current.read() {
            Ok(g) => g.0.clone(),
            Err(p) => p.into_inner().0.clone(),
        })
    }
}

pub fn fingerprint(der: &[u8]) -> String {
    digest(&SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn tls_dir(data: &Path) -> PathBuf {
    data.join("tls")
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// The names a server certificate should cover: hostname, localhost and every address.
pub fn local_names() -> Vec<String> {
    let mut names = vec!["localhost".to_string()];
    if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let h = h.trim().to_string();
        if !h.is_empty() && !names.contains(&h) {
            names.push(h);
        }
    }
    let mut ips: Vec<IpAddr> = vec![
        IpAddr::from(std::net::Ipv4Addr::LOCALHOST),
        IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
    ];
    if let Ok(ifaces) = if_addrs::get_if_addrs() {
        for i in ifaces {
            let ip = i.ip();
            if !ips.contains(&ip) && !ip.is_unspecified() && !is_link_local(&ip) {
                ips.push(ip);
            }
        }
    }
    names.extend(ips.iter().map(IpAddr::to_string));
    names.sort();
    names.dedup();
    names
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

fn ca_params(ca_key: &KeyPair) -> Result<CertificateParams> {
    // The name derives from the key, so the same issuer can be rebuilt to sign later
    // certificates without parsing the stored CA certificate.
    let id: String = digest(&SHA256, ca_key.public_key_raw())
        .as_ref()
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "hotline 12345");
    dn.push(DnType::CommonName, format!("hotline local CA {id}"));
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::days(1);
    p.not_after = now + time::Duration::days(365 * CA_YEARS);
    Ok(p)
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Loads the certificate from `DATA/tls`, creating the CA and a server certificate on
/// first start and reissuing the server certificate when names changed or it nears expiry.
/// Returns the key for rustls, a summary, and whether anything was created.
pub fn load_or_create(data: &Path) -> Result<(CertifiedKey, CertSummary, bool)> {
    let dir = tls_dir(data);
    std::fs::create_dir_all(&dir)?;
    let mut created = false;

    let ca_key_path = dir.join(CA_KEY);
    let ca_cert_path = dir.join(CA_CERT);
    let ca_key = if ca_key_path.exists() && ca_cert_path.exists() {
        KeyPair::from_pem(&std::fs::read_to_string(&ca_key_path)?)
            .context("reading the local CA key")?
    } else {
        let key = KeyPair::generate()?;
        let cert = ca_params(&key)?.self_signed(&key)?;
        write_private(&ca_key_path, &key.serialize_pem())?;
        std::fs::write(&ca_cert_path, cert.pem())?;
        created = true;
        key
    };
    let ca_der = CertificateDer::from_pem_file(&ca_cert_path).context("reading the local CA")?;

    let names = local_names();
    let info: Option<LeafInfo> = std::fs::read(dir.join(SERVER_INFO))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let fresh = info.as_ref().is_some_and(|i| {
        names.iter().all(|n| i.names.contains(n))
            && i.not_after_unix - now_unix() > RENEW_BEFORE_DAYS * 86400
    }) && dir.join(SERVER_CERT).exists()
        && dir.join(SERVER_KEY).exists();
    if !fresh {
        issue_leaf(&dir, &ca_key, &names)?;
        created = true;
    }
    if dir.join(CUSTOM_CERT).exists() {
        match load_custom(&dir) {
            Ok((key, summary)) => return Ok((key, summary, created)),
            Err(e) => {
                tracing::warn!(error = %e, "the uploaded certificate is not usable; serving the local one")
            }
        }
    }
    let (key, summary) = load_pair(&dir.join(SERVER_CERT), &dir.join(SERVER_KEY))?;
    let not_after_unix = std::fs::read(dir.join(SERVER_INFO))
        .ok()
        .and_then(|b| serde_json::from_slice::<LeafInfo>(&b).ok())
        .map(|i| i.not_after_unix)
        .unwrap_or(summary.not_after_unix);
    Ok((
        key,
        CertSummary {
            ca_fingerprint_sha256: Some(fingerprint(ca_der.as_ref())),
            not_after_unix,
            ..summary
        },
        created,
    ))
}

fn issue_leaf(dir: &Path, ca_key: &KeyPair, names: &[String]) -> Result<()> {
    let issuer = Issuer::new(ca_params(ca_key)?, ca_key);
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "hotline 12345");
    dn.push(
        DnType::CommonName,
        names
            .iter()
            .find(|n| n.parse::<IpAddr>().is_err() && *n != "localhost")
            .cloned()
            .unwrap_or_else(|| "localhost".into()),
    );
    p.distinguished_name = dn;
    for n in names {
        match n.parse::<IpAddr>() {
            Ok(ip) => p.subject_alt_names.push(SanType::IpAddress(ip)),
            Err(_) => p
                .subject_alt_names
                .push(SanType::DnsName(n.clone().try_into()?)),
        }
    }
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::days(1);
    let not_after = now + time::Duration::days(LEAF_DAYS);
    p.not_after = not_after;
    let key = KeyPair::generate()?;
    let cert = p.signed_by(&key, &issuer)?;
    let ca_pem = std::fs::read_to_string(dir.join(CA_CERT))?;
    write_private(&dir.join(SERVER_KEY), &key.serialize_pem())?;
    std::fs::write(dir.join(SERVER_CERT), format!("{}{}", cert.pem(), ca_pem))?;
    let info = LeafInfo {
        names: names.to_vec(),
        not_after_unix: not_after.unix_timestamp(),
    };
    std::fs::write(dir.join(SERVER_INFO), serde_json::to_vec_pretty(&info)?)?;
    Ok(())
}

/// Reads a PEM certificate chain and private key into what rustls serves.
pub fn load_pair(cert: &Path, key: &Path) -> Result<(CertifiedKey, CertSummary)> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("parsing {}", cert.display()))?;
    let first = chain
        .first()
        .ok_or_else(|| anyhow::anyhow!("{} holds no certificate", cert.display()))?;
    let summary = CertSummary {
        fingerprint_sha256: fingerprint(first.as_ref()),
        ca_fingerprint_sha256: None,
        not_after_unix: validity(first.as_ref()).map(|v| v.1).unwrap_or(0),
        uploaded: false,
    };
    let key =
        PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading {}", key.display()))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| anyhow::anyhow!("unsupported private key: {e}"))?;
    let ck = CertifiedKey::new(chain, signing);
    ck.keys_match()
        .map_err(|e| anyhow::anyhow!("certificate and key do not match: {e}"))?;
    Ok((ck, summary))
}

fn load_custom(dir: &Path) -> Result<(CertifiedKey, CertSummary)> {
    let cert = std::fs::read(dir.join(CUSTOM_CERT))?;
    let key = std::fs::read(dir.join(CUSTOM_KEY))?;
    check_pair(&cert, &key, now_unix()).map_err(|e| anyhow::anyhow!(e))
}

/// Checks an uploaded PEM certificate (chain) and key: both parse, the key is supported and
/// belongs to the certificate, and the certificate is valid now. The message is Chinese.
pub fn check_pair(
    cert_pem: &[u8],
    key_pem: &[u8],
    now: i64,
) -> Result<(CertifiedKey, CertSummary), String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|_| "证书文件不是 PEM 格式的证书".to_string())?;
    let first = chain
        .first()
        .ok_or_else(|| "证书文件中没有证书（应以 -----BEGIN CERTIFICATE----- 开头）".to_string())?;
    let (not_before, not_after) = validity(first.as_ref())
        .ok_or_else(|| "无法读取证书的有效期，文件可能已损坏".to_string())?;
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|_| "私钥文件不是 PEM 格式的私钥（支持 PKCS#8、RSA、EC）".to_string())?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|_| "不支持该私钥类型".to_string())?;
    let ck = CertifiedKey::new(chain.clone(), signing);
    ck.keys_match()
        .map_err(|_| "证书与私钥不匹配".to_string())?;
    let day = |t: i64| crate::domain::time::Timestamp::from_secs(t).cst_day();
    if not_after <= now {
        return Err(format!("证书已于 {} 过期", day(not_after)));
    }
    if not_before > now + 86400 {
        return Err(format!("证书要到 {} 才生效", day(not_before)));
    }
    let summary = CertSummary {
        fingerprint_sha256: fingerprint(first.as_ref()),
        ca_fingerprint_sha256: chain
            .last()
            .filter(|_| chain.len() > 1)
            .map(|c| fingerprint(c.as_ref())),
        not_after_unix: not_after,
        uploaded: true,
    };
    Ok((ck, summary))
}

/// Keeps an uploaded certificate and key in `DATA/tls` after checking them; nothing is
/// written when they do not check.
pub fn install_upload(
    data: &Path,
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<(CertifiedKey, CertSummary), String> {
    let checked = check_pair(cert_pem, key_pem, now_unix())?;
    let dir = tls_dir(data);
    let cert = std::str::from_utf8(cert_pem).map_err(|_| "证书文件编码无效".to_string())?;
    let key = std::str::from_utf8(key_pem).map_err(|_| "私钥文件编码无效".to_string())?;
    write_private(&dir.join(CUSTOM_KEY), key).map_err(|e| format!("保存失败：{e}"))?;
    write_private(&dir.join(CUSTOM_CERT), cert).map_err(|e| format!("保存失败：{e}"))?;
    Ok(checked)
}

/// Forgets the uploaded certificate and returns to the box's own.
pub fn remove_upload(data: &Path) -> Result<(CertifiedKey, CertSummary)> {
    let dir = tls_dir(data);
    for f in [CUSTOM_CERT, CUSTOM_KEY] {
        match std::fs::remove_file(dir.join(f)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    let (key, summary, _) = load_or_create(data)?;
    Ok((key, summary))
}

/// Reads one DER element: (tag, contents, rest).
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (bytes, rest) = rest.split_at_checked(n)?;
        (
            bytes.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b)),
            rest,
        )
    };
    let (body, rest) = rest.split_at_checked(len)?;
    Some((tag, body, rest))
}

/// An X.509 time (UTCTime or GeneralizedTime, in Z) as unix seconds.
fn der_time(tag: u8, body: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(body).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i32 = s.get(0..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        0x18 => (s.get(0..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let n = |r: std::ops::Range<usize>| rest.get(r).and_then(|x| x.parse::<u8>().ok());
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(n(0..2)?).ok()?, n(2..4)?)
            .ok()?;
    let t = time::Time::from_hms(n(4..6)?, n(6..8)?, n(8..10).unwrap_or(0)).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, t)
            .assume_utc()
            .unix_timestamp(),
    )
}

/// A certificate's (notBefore, notAfter) in unix seconds, read from its DER.
pub fn validity(cert: &[u8]) -> Option<(i64, i64)> {
    let (0x30, cert, _) = der(cert)? else {
        return None;
    };
    let (0x30, tbs, _) = der(cert)? else {
        return None;
    };
    let (tag, _, mut rest) = der(tbs)?;
    if tag == 0xa0 {
        // [0] version; the serial number follows.
        rest = der(rest)?.2;
    }
    // signature algorithm, issuer, then validity.
    let rest = der(rest)?.2;
    let rest = der(rest)?.2;
    let (0x30, validity, _) = der(rest)? else {
        return None;
    };
    let (t1, b1, r) = der(validity)?;
    let (t2, b2, _) = der(r)?;
    Some((der_time(t1, b1)?, der_time(t2, b2)?))
}

/// The rustls server configuration: ring provider only, TLS 1.2 and 1.3, h2 and http/1.1.
pub fn server_config(resolver: Arc<CertResolver>) -> Result<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

pub fn ca_path(data: &Path) -> PathBuf {
    tls_dir(data).join(CA_CERT)
}

/// A TLS client that trusts exactly one certificate (by SHA-256 fingerprint): for the
/// server's check of its own listener.
pub fn pinned_connector(fingerprint_sha256: &str) -> Result<tokio_rustls::TlsConnector> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(Pinned {
        fingerprint: fingerprint_sha256.to_string(),
        provider: provider.clone(),
    });
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(cfg)))
}

#[derive(Debug)]
struct Pinned {
    fingerprint: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if fingerprint(end_entity.as_ref()) == self.fingerprint {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "not the certificate this box serves".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_validity_of_a_certificate() {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec!["example.test".to_string()]).unwrap();
        p.not_before = time::macros::datetime!(2026-01-02 03:04:05 UTC);
        p.not_after = time::macros::datetime!(2051-06-30 23:59:59 UTC);
        let cert = p.self_signed(&key).unwrap();
        assert_eq!(
            validity(cert.der()),
            Some((p.not_before.unix_timestamp(), p.not_after.unix_timestamp()))
        );
        assert_eq!(validity(b"\x30\x03abc"), None);
        assert_eq!(validity(&[]), None);
    }
}
