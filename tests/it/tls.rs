//! The admin uploads a real certificate: checked, swapped in without a restart, kept across
//! restarts; a bad file changes nothing.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::helpers::TestApp;

/// A CA and a leaf for 127.0.0.1 signed by it, valid from `from_days` to `to_days` from now.
fn issue(from_days: i64, to_days: i64) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
    let now = time::OffsetDateTime::now_utc();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.not_before = now - time::Duration::days(400);
    ca.not_after = now + time::Duration::days(4000);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, &ca_key);
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec!["hotline.hengdong.test".to_string()]).unwrap();
    p.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    p.not_before = now + time::Duration::days(from_days);
    p.not_after = now + time::Duration::days(to_days);
    let cert = p.signed_by(&key, &issuer).unwrap();
    (cert.pem(), key.serialize_pem(), ca_cert.pem())
}

fn trusting(ca_pem: &[u8]) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem).unwrap())
        .tls_built_in_root_certs(false)
        .build()
        .unwrap()
}

async fn connects(app: &TestApp, ca_pem: &[u8]) -> bool {
    trusting(ca_pem)
        .get(app.url("/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == StatusCode::OK)
}

#[tokio::test]
async fn an_uploaded_certificate_is_checked_and_swapped_in_without_restart() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let local_ca = app.ca_pem.clone();
    let (cert, key, ca) = issue(-1, 365);
    let (_, other_key, _) = issue(-1, 365);
    let (old_cert, old_key, _) = issue(-400, -10);
    let upload = |cert: String, key: String| {
        let admin = &admin;
        async move {
            let form = Form::new()
                .part("cert", Part::text(cert).file_name("server.pem"))
                .part("key", Part::text(key).file_name("server.key"));
            admin
                .client
                .post(admin.url(&format!("/admin/tls?csrf={}", admin.csrf)))
                .multipart(form)
                .send()
                .await
                .unwrap()
        }
    };

    // Each bad pair is refused with its reason; the local certificate stays.
    for (c, k, reason) in [
        ("不是证书".to_string(), key.clone(), "证书文件中没有证书"),
        (
            cert.clone(),
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_string(),
            "私钥",
        ),
        (cert.clone(), other_key.clone(), "证书与私钥不匹配"),
        (old_cert.clone(), old_key.clone(), "过期"),
    ] {
        let r = upload(c, k).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text().await.unwrap();
        assert!(page.contains(reason), "{reason}: {page}");
        assert!(page.contains("未作任何更改"));
        assert!(connects(&app, &local_ca).await);
        assert!(!connects(&app, ca.as_bytes()).await);
    }
    assert!(!app.data().join("tls/custom.pem").exists());

    // A good pair: new connections get it at once, no restart.
    let r = upload(cert.clone(), key.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(connects(&app, ca.as_bytes()).await);
    assert!(!connects(&app, &local_ca).await);
    let page = admin.get("/admin/tls").await.text().await.unwrap();
    assert!(page.contains("管理员上传的证书"), "{page}");
    let overview = admin.get("/admin").await.text().await.unwrap();
    let fp = hotline::http::tls::fingerprint(
        &<rustls::pki_types::CertificateDer as rustls::pki_types::pem::PemObject>::from_pem_slice(
            cert.as_bytes(),
        )
        .unwrap(),
    );
    assert!(
        overview.contains(&fp),
        "the admin home shows the served certificate"
    );
    let audit: serde_json::Value = admin
        .get("/api/v1/audit?action=tls.upload")
        .await
        .json()
        .await
        .unwrap();
    assert!(audit.to_string().contains("tls.upload"), "{audit}");

    // Kept across a restart.
    let mut app = TestApp::start_in(app.stop().await).await;
    assert!(connects(&app, ca.as_bytes()).await);
    // From here the test's clients trust the uploaded certificate's CA.
    app.ca_pem = ca.as_bytes().to_vec();

    // And back to the box's own certificate.
    let admin = app.login("admin", crate::helpers::ADMIN_PASSWORD).await;
    let r = admin.form("/admin/tls/local", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(connects(&app, &local_ca).await);
    assert!(!connects(&app, ca.as_bytes()).await);
}
