//! Commands on a stopped box: users, audit check, backup, restore.

use super::*;

pub(super) fn read_password(flag: bool) -> Result<String> {
    if !flag {
        bail!("pass --password-stdin and give the password on standard input");
    }
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s)?;
    let pw = s.lines().next().unwrap_or("").to_string();
    if pw.is_empty() {
        bail!("no password on standard input");
    }
    Ok(pw)
}

pub(super) fn open_offline(data: &Path) -> Result<App> {
    if !data.join(crate::store::DB_FILE).exists() {
        bail!(
            "no database in {} (run `hotline serve` once first)",
            data.display()
        );
    }
    let store = Store::open(data).map_err(|e| anyhow::anyhow!("{e}"))?;
    App::new(store, Arc::new(SystemClock), data.to_path_buf()).map_err(|e| anyhow::anyhow!("{e}"))
}

pub(super) fn console_event() -> AuditEvent {
    AuditEvent {
        actor: "console".into(),
        ..AuditEvent::default()
    }
}

pub(super) fn user(cmd: UserCommand) -> Result<i32> {
    match cmd {
        UserCommand::Add {
            data,
            username,
            role,
            unit,
            display_name,
            password_stdin,
        } => {
            let role = Role::parse(&role).with_context(|| {
                format!(
                    "unknown role {role:?}: use operator, shift_lead, qa, supervisor, admin or unit"
                )
            })?;
            let password = read_password(password_stdin)?;
            let app = open_offline(&data)?;
            let u = create_unchecked(
                &app,
                &console_event(),
                NewUser {
                    username,
                    display_name: display_name.unwrap_or_default(),
                    role,
                    unit: unit.map(UnitRef::Code),
                    password,
                },
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let _ = crate::service::setup::prepare(&app);
            println!(
                "created user {} (id {}, role {}); the password must be changed at first login",
                u.username,
                u.id.0,
                u.role.code()
            );
            Ok(0)
        }
        UserCommand::ResetPassword {
            data,
            username,
            password_stdin,
            enable,
        } => {
            let password = read_password(password_stdin)?;
            let app = open_offline(&data)?;
            let name = crate::domain::user::normalize_username(&username)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let id = app
                .store
                .read(|tx| users::id_by_username(tx, &name))
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .with_context(|| format!("no user {name}"))?;
            let mut ev = console_event();
            ev.action = "user.reset_password".into();
            let patch = UserPatch {
                password: Some(password),
                disabled: enable.then_some(false),
                ..UserPatch::default()
            };
            update_unchecked(&app, &ev, None, id, patch).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("password of {name} reset; it must be changed at next login");
            Ok(0)
        }
    }
}

pub(super) fn audit_verify(data: &Path) -> Result<i32> {
    if !data.join(crate::store::DB_FILE).exists() {
        bail!("no database in {}", data.display());
    }
    let store = Store::open(data).map_err(|e| anyhow::anyhow!("{e}"))?;
    match verify(&store).map_err(|e| anyhow::anyhow!("{e}"))? {
        Verdict::Intact { entries } => {
            println!("audit chain intact: {entries} entries");
            Ok(0)
        }
        Verdict::Broken { checked, first_bad } => {
            println!("audit chain BROKEN: {first_bad}");
            println!("first bad entry: {}", bad_seq(&first_bad));
            println!("entries verified before it: {checked}");
            Ok(1)
        }
        Verdict::Unreadable { seq, error } => {
            println!("audit chain BROKEN: entry {seq} unreadable: {error}");
            println!("first bad entry: {seq}");
            Ok(1)
        }
    }
}

pub(super) fn bad_seq(b: &crate::domain::audit::ChainBreak) -> u64 {
    use crate::domain::audit::ChainBreak;
    match b {
        ChainBreak::Gap { seq, .. } | ChainBreak::Link { seq } | ChainBreak::Content { seq } => {
            *seq
        }
    }
}

pub(super) fn backup_offline(data: &Path, out: Option<PathBuf>) -> Result<i32> {
    use crate::clock::Clock as _;
    let out = out.context("give --out FILE (or use `hotline backup verify FILE`)")?;
    if !data.join(crate::store::DB_FILE).exists() {
        bail!("no database in {}", data.display());
    }
    let store = Store::open(data).map_err(|e| anyhow::anyhow!("{e}"))?;
    let m = store
        .backup_to(&out, SystemClock.now().secs())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "backup written to {} ({} bytes, schema {}, SHA-256 {})",
        out.display(),
        m.bytes,
        m.schema_version,
        m.sha256
    );
    Ok(0)
}

pub(super) fn backup_verify(file: &Path) -> Result<i32> {
    match crate::store::backup::verify(file) {
        Ok(m) => {
            println!(
                "backup OK: hotline {} schema {}, {} bytes, SHA-256 {}",
                m.program_version, m.schema_version, m.bytes, m.sha256
            );
            for (t, n) in &m.counts {
                println!("  {t:<20} {n}");
            }
            Ok(0)
        }
        Err(e) => {
            println!("backup BAD: {e}");
            Ok(1)
        }
    }
}

pub(super) fn backup_keygen(out: &Path) -> Result<i32> {
    use age::secrecy::ExposeSecret as _;
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .with_context(|| format!("creating {} (it must not exist yet)", out.display()))?;
    writeln!(f, "# hotline backup key, public key: {public}")?;
    writeln!(f, "{}", identity.to_string().expose_secret())?;
    f.sync_all()?;
    println!(
        "wrote the private key to {} (keep it off the box, in a safe place)",
        out.display()
    );
    println!("public key (enter it on the backups page): {public}");
    Ok(0)
}

/// Restores a `.hlbak`, or an encrypted `.hlbak.age` copy decrypted with `identity` first.
pub(super) fn restore_any(file: &Path, data: &Path, identity: Option<&Path>) -> Result<i32> {
    let encrypted = file.extension().is_some_and(|e| e == "age");
    if !encrypted {
        return restore(file, data);
    }
    let identity = identity.context("an encrypted copy needs --identity KEYFILE")?;
    let ids = age::IdentityFile::from_file(identity.display().to_string())
        .with_context(|| format!("reading {}", identity.display()))?
        .into_identities()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::create_dir_all(data)?;
    let plain = data.join("restore-decrypted.hlbak");
    let decrypt = || -> Result<()> {
        let input = std::io::BufReader::new(std::fs::File::open(file)?);
        let d = age::Decryptor::new_buffered(input).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut r = d
            .decrypt(ids.iter().map(|i| i.as_ref() as &dyn age::Identity))
            .map_err(|e| anyhow::anyhow!("cannot decrypt with this key: {e}"))?;
        let mut out = std::fs::File::create(&plain)?;
        std::io::copy(&mut r, &mut out)?;
        out.sync_all()?;
        Ok(())
    };
    let result = decrypt().and_then(|_| restore(&plain, data));
    let _ = std::fs::remove_file(&plain);
    result
}

/// Restores into place atomically: the backup is checked, extracted beside the database,
/// opened, and renamed over it; the replaced database is kept in `backups/`.
pub(super) fn restore(file: &Path, data: &Path) -> Result<i32> {
    let m = crate::store::backup::verify(file)
        .map_err(|e| anyhow::anyhow!("the backup does not verify: {e}"))?;
    if m.schema_version > crate::store::SCHEMA_VERSION {
        bail!(
            "the backup has schema {}, newer than this program ({})",
            m.schema_version,
            crate::store::SCHEMA_VERSION
        );
    }
    std::fs::create_dir_all(data)?;
    let live = data.join(crate::store::DB_FILE);
    if live.exists() {
        // Refuse while a server holds the data.
        match redb::Database::open(&live) {
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                bail!("the database is in use: stop `hotline serve` first");
            }
            Err(e) => bail!("the current database cannot be opened: {e}"),
            Ok(db) => drop(db),
        }
    }
    let staging = data.join("hotline.redb.restoring");
    crate::store::backup::extract_db(file, m.bytes, &staging)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(redb::Database::open(&staging).context("the restored database does not open")?);
    if live.exists() {
        let keep = data.join("backups");
        std::fs::create_dir_all(&keep)?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        std::fs::rename(&live, keep.join(format!("before-restore-{stamp}.redb")))?;
    }
    std::fs::rename(&staging, &live)?;
    // The search index is derived: rebuilt from the restored data at the next start.
    let _ = std::fs::remove_dir_all(data.join("index"));
    let store = Store::open(data).map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = {
        use crate::clock::Clock as _;
        SystemClock.now()
    };
    store
        .write(|tx| {
            crate::store::audit::append(
                tx,
                now,
                AuditEvent {
                    actor: "console".into(),
                    action: "backup.restore".into(),
                    detail: format!("从备份恢复（创建于 unix {}）", m.created_at),
                    ..AuditEvent::default()
                },
            )
            .map(|_| ())
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "restored {} into {}; the previous database is kept in {}/backups",
        file.display(),
        data.display(),
        data.display()
    );
    Ok(0)
}
