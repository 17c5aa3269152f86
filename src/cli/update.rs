//! `update`: signing, checking and installing update bundles.

use super::*;

pub(super) fn update(cmd: UpdateCommand) -> Result<i32> {
    use crate::update;
    match cmd {
        UpdateCommand::Keygen { out } => {
            let public = update::keygen(&out).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "wrote {0}/update.key (private: keep it off the box) and {0}/update.pub",
                out.display()
            );
            println!("public key: {public}");
            println!("to trust it, add that line to keys/update-keys.txt and rebuild");
            Ok(0)
        }
        UpdateCommand::Sign {
            key,
            binary,
            version,
            target,
            out,
        } => {
            let bytes =
                std::fs::read(&binary).with_context(|| format!("reading {}", binary.display()))?;
            let bundle = update::sign(&key, &bytes, &version, &target)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            std::fs::write(&out, bundle)?;
            println!(
                "signed {} {} for {} into {}",
                binary.display(),
                version,
                target,
                out.display()
            );
            Ok(0)
        }
        UpdateCommand::Apply {
            file,
            data,
            force,
            reason,
        } => apply(&file, &data, force, &reason),
        UpdateCommand::Verify { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            match update::verify(&bytes) {
                Ok((h, _)) => {
                    println!(
                        "bundle OK: version {} for {}, SHA-256 {}",
                        h.version, h.target, h.sha256
                    );
                    Ok(0)
                }
                Err(e) => {
                    println!("bundle REFUSED: {e}");
                    Ok(1)
                }
            }
        }
    }
}

/// Installs a bundle on a stopped box from the console (`update apply`).
fn apply(file: &Path, data: &Path, force: bool, reason: &str) -> Result<i32> {
    use crate::clock::Clock as _;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    if !data.join(crate::store::DB_FILE).exists() {
        bail!("no database in {}", data.display());
    }
    let store = match Store::open(data) {
        Err(crate::store::StoreError::Locked) => bail!(
            "the server holds the data: install from the admin page (系统管理 → 升级), \
             or stop the service first"
        ),
        other => other.map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    let outcome = crate::service::updates::apply_bundle(
        &store,
        data,
        &bytes,
        crate::service::updates::ApplyRequest {
            force,
            reason,
            actor: AuditEvent {
                actor: "console".into(),
                ..AuditEvent::default()
            },
        },
        SystemClock.now(),
    );
    match outcome {
        Ok(s) => {
            println!(
                "installed {} -> {} at {}; the previous binary is kept as {}",
                s.from_version,
                s.to_version,
                s.binary.display(),
                s.previous.display()
            );
            println!(
                "start the service now (systemctl start hotline): its first start is \
                 checked, and after two failed starts the previous binary comes back"
            );
            Ok(0)
        }
        Err(e) => {
            println!("update REFUSED: {e}");
            Ok(1)
        }
    }
}
