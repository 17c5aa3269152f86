//! systemd readiness and watchdog notifications (`Type=notify`), over the datagram socket in
//! `NOTIFY_SOCKET`. Does nothing when not started by systemd.

use std::os::unix::net::UnixDatagram;

fn send(msg: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = UnixDatagram::unbound() else {
        return;
    };
    // Abstract sockets ("@name") are not reachable through a path; systemd uses a path by default.
    let _ = sock.send_to(msg.as_bytes(), &path);
}

pub fn ready() {
    send("READY=1");
}

pub fn stopping() {
    send("STOPPING=1");
}

/// A status line `systemctl status` shows (e.g. a full disk).
pub fn status(text: &str) {
    send(&format!("STATUS={}", text.replace('\n', " ")));
}

pub fn watchdog() {
    send("WATCHDOG=1");
}

/// Half the watchdog interval systemd asked for, if it asked.
pub fn watchdog_interval() -> Option<std::time::Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    Some(std::time::Duration::from_micros(usec / 2))
}
