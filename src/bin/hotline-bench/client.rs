//! A small HTTP/1.1 client over TLS for the benchmark: keep-alive, a session cookie, bodies
//! by length or chunks. Enough to drive the server the way browsers do, without a client
//! library in the product's dependencies.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Trusts exactly the box's own CA.
pub fn connector(ca_pem: &[u8]) -> Result<TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(c?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(cfg)))
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Result<serde_json::Value> {
        Ok(serde_json::from_slice(&self.body)?)
    }
}

/// One keep-alive connection with its session.
pub struct Client {
    addr: std::net::SocketAddr,
    tls: TlsConnector,
    conn: Option<TlsStream<TcpStream>>,
    buf: Vec<u8>,
    cookie: Option<String>,
    pub csrf: String,
}

impl Client {
    pub fn new(addr: std::net::SocketAddr, tls: TlsConnector) -> Client {
        Client {
            addr,
            tls,
            conn: None,
            buf: Vec::new(),
            cookie: None,
            csrf: String::new(),
        }
    }

    async fn stream(&mut self) -> Result<&mut TlsStream<TcpStream>> {
        if self.conn.is_none() {
            let tcp = TcpStream::connect(self.addr).await?;
            tcp.set_nodelay(true)?;
            let name = ServerName::try_from("127.0.0.1")?.to_owned();
            self.conn = Some(self.tls.connect(name, tcp).await?);
            self.buf.clear();
        }
        self.conn.as_mut().context("no connection")
    }

    pub async fn login(&mut self, user: &str, password: &str) -> Result<()> {
        let body = serde_json::json!({"username": user, "password": password}).to_string();
        let r = self
            .send("POST", "/api/v1/session", Some(body.as_bytes()))
            .await?;
        if r.status != 200 {
            bail!("login {user}: {}", String::from_utf8_lossy(&r.body));
        }
        self.csrf = r.json()?["csrf_token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        Ok(())
    }

    pub async fn get(&mut self, path: &str) -> Result<Response> {
        self.send("GET", path, None).await
    }

    pub async fn post_json(&mut self, path: &str, body: &serde_json::Value) -> Result<Response> {
        let b = body.to_string();
        self.send("POST", path, Some(b.as_bytes())).await
    }

    /// Sends one request; retries once on a connection the server closed meanwhile.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<Response> {
        match self.exchange(method, path, body).await {
            Ok(r) => Ok(r),
            Err(_) => {
                self.conn = None;
                self.exchange(method, path, body).await
            }
        }
    }

    async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<Response> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        if let Some(c) = &self.cookie {
            head.push_str(&format!("Cookie: {c}\r\n"));
        }
        if !self.csrf.is_empty() && method != "GET" {
            head.push_str(&format!("X-CSRF-Token: {}\r\n", self.csrf));
        }
        if let Some(b) = body {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            ));
        }
        head.push_str("\r\n");
        let stream = self.stream().await?;
        stream.write_all(head.as_bytes()).await?;
        if let Some(b) = body {
            stream.write_all(b).await?;
        }
        stream.flush().await?;
        let r = self.read_response().await?;
        if let Some(c) = r.header("set-cookie")
            && let Some(pair) = c.split(';').next()
        {
            if pair.ends_with('=') {
                self.cookie = None;
            } else {
                self.cookie = Some(pair.to_string());
            }
        }
        if r.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
        {
            self.conn = None;
        }
        Ok(r)
    }

    async fn fill(&mut self) -> Result<()> {
        let mut chunk = [0u8; 16384];
        let stream = self.conn.as_mut().context("no connection")?;
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed");
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    async fn read_response(&mut self) -> Result<Response> {
        let end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i;
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).to_string();
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .context("bad status line")?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
            .collect();
        let len = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok());
        let chunked = headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
        let mut body = Vec::new();
        if let Some(n) = len {
            while self.buf.len() < n {
                self.fill().await?;
            }
            body = self.buf.drain(..n).collect();
        } else if chunked {
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf, b"\r\n") {
                        break i;
                    }
                    self.fill().await?;
                };
                let size = usize::from_str_radix(
                    String::from_utf8_lossy(&self.buf[..line_end]).trim(),
                    16,
                )?;
                self.buf.drain(..line_end + 2);
                while self.buf.len() < size + 2 {
                    self.fill().await?;
                }
                body.extend(self.buf.drain(..size));
                self.buf.drain(..2);
                if size == 0 {
                    break;
                }
            }
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
