//! Attachments: typed by content, size-limited, stored once, shown only to those who may see.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::orders::{Centre, create, get, ok, order_body};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDRfake-image-bytes";

#[tokio::test]
async fn upload_download_limits_and_visibility() {
    let c = Centre::new().await;
    let id = create(&c.op, order_body("13312340000", "附件")).await["id"]
        .as_u64()
        .unwrap();
    let up = |s: &crate::helpers::Session, name: &str, body: Vec<u8>| {
        s.client
            .post(s.url(&format!("/api/v1/orders/{id}/attachments?name={name}")))
            .header("x-csrf-token", &s.csrf)
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
    };
    let r = up(&c.op, "scene.png", PNG.to_vec()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["mime"], "image/png");
    assert_eq!(a["hash"].as_str().unwrap().len(), 64);
    // Refused: not an image or PDF (whatever the name says), too large, empty.
    let r = up(&c.op, "photo.jpg", b"MZ\x90\x00 an exe".to_vec())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut big = PNG.to_vec();
    big.resize(5 * 1024 * 1024 + 10, 0);
    assert_eq!(
        up(&c.op, "big.png", big).await.unwrap().status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        up(&c.op, "none.png", Vec::new()).await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // The same file again is a second reference to one stored copy.
    assert_eq!(
        up(&c.op, "again.png", PNG.to_vec()).await.unwrap().status(),
        StatusCode::CREATED
    );
    let v = get(&c.op, id).await;
    assert_eq!(v["attachments"].as_array().unwrap().len(), 2);
    let hash = a["hash"].as_str().unwrap().to_string();
    assert_eq!(v["attachments"][0]["hash"], v["attachments"][1]["hash"]);

    // Download, then visibility: the dispatched unit sees it, another unit does not.
    let r = c.op.get(&format!("/orders/{id}/attachments/{hash}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("scene.png")
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    assert_eq!(
        c.unit_a
            .get(&format!("/orders/{id}/attachments/{hash}"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        c.unit_b
            .get(&format!("/orders/{id}/attachments/{hash}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.op.get(&format!("/orders/{id}/attachments/{}", "0".repeat(64)))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // The page's multipart form, with the token in the query string.
    let part = reqwest::multipart::Part::bytes(b"%PDF-1.4 fake".to_vec()).file_name("回复函.pdf");
    let form = reqwest::multipart::Form::new().part("file", part);
    let r = c
        .unit_a
        .client
        .post(
            c.unit_a
                .url(&format!("/orders/{id}/attachments?csrf={}", c.unit_a.csrf)),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let part = reqwest::multipart::Part::bytes(b"%PDF-1.4 fake".to_vec()).file_name("x.pdf");
    let r = c
        .unit_a
        .client
        .post(c.unit_a.url(&format!("/orders/{id}/attachments")))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no token, no upload");
    let page =
        c.op.get(&format!("/orders/{id}"))
            .await
            .text()
            .await
            .unwrap();
    assert!(page.contains("回复函.pdf"));
}
