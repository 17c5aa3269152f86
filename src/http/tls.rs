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
}

/// Hands rustls the current certificate; `replace` swaps it for new connections.
#[derive(Debug)]
pub struct CertResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertResolver {
    pub fn new(key: CertifiedKey) -> Self {
        Self {
            current: RwLock::new(Arc::new(key)),
        }
    }
    pub fn replace(&self, key: CertifiedKey) {
        match self.current.write() {
            Ok(mut g) => *g = Arc::new(key),
            Err(p) => *p.into_inner() = Arc::new(key),
        }
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(match self.current.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
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
        not_after_unix: 0,
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
