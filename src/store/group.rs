//! Group commit: one writer thread owns the batched write transaction.
//!
//! A request sends its change down a bounded channel and waits for the answer. The writer
//! takes every change waiting, runs each in one shared transaction (taking in those that
//! arrive meanwhile, up to `BATCH`), commits once with `Durability::Immediate`, and only then
//! answers each request. Nobody hears "done" before the fsync. Under one client it is a plain
//! commit; under 32 the fsync is shared, and no request thread waits on another's turn: the
//! changes run one after another on the writer, without a lock handed between threads.
//!
//! A change that fails aborts the transaction (whatever it wrote goes with it): it hears its
//! own error, and the others run again in a fresh transaction — which is why a batched change
//! is an `Fn`. The sums the changes move (counters, facts) are added once a batch, before
//! its commit (see `sums`). One-off changes (`Store::write`) run alone in their own transaction on the
//! caller's thread, between batches: redb lets one write transaction live at a time, and the
//! writer steps aside while one waits.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Fault, Health, Store, StoreCore, StoreError, WriteTx};

/// The most changes one commit carries.
const BATCH: usize = 256;
/// Changes waiting for the writer before a sender waits for room.
const QUEUE: usize = 1024;
/// How long the writer waits for a change before it folds the pending index keys.
const FOLD_WHEN_IDLE: Duration = Duration::from_millis(20);
/// How often the writer looks whether a one-off change still waits for its turn.
const STEP_ASIDE: Duration = Duration::from_micros(100);

/// The group commit's counters, kept by the store.
#[derive(Default)]
pub(super) struct Group {
    /// Commits made, and changes committed in them (their ratio is the batching).
    commits: AtomicU64,
    changes: AtomicU64,
    /// Microseconds spent in those commits (writing the pages and the fsync).
    commit_micros: AtomicU64,
    /// Microseconds batches stood open before their commit, and the part of it the changes
    /// themselves took.
    open_micros: AtomicU64,
    change_micros: AtomicU64,
    /// One-off changes waiting for the write transaction: the writer lets them go first.
    exclusive_waiting: AtomicUsize,
    /// Folds of the pending index tier, and the microseconds they took.
    folds: AtomicU64,
    fold_micros: AtomicU64,
    /// The last key a fold under load took: the next one goes on after it.
    fold_from: Mutex<Option<Vec<u8>>>,
}

/// What the group commit has done since start (`/metrics`; the benchmark reads it).
#[derive(Clone, Copy, Debug, Default)]
pub struct CommitStats {
    pub commits: u64,
    pub changes: u64,
    /// Seconds spent committing (writing the pages and the fsync).
    pub commit_secs: f64,
    /// Seconds batches stood open before their commit, and the part the changes took.
    pub open_secs: f64,
    pub change_secs: f64,
    /// Folds of the pending index tier, and the seconds they took.
    pub folds: u64,
    pub fold_secs: f64,
}

fn micros(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}

impl Group {
    fn folded(&self, started: Instant) {
        self.folds.fetch_add(1, Ordering::Relaxed);
        self.fold_micros
            .fetch_add(micros(started), Ordering::Relaxed);
    }

    fn counted(&self, members: u64, started: Instant) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.changes.fetch_add(members, Ordering::Relaxed);
        self.commit_micros
            .fetch_add(micros(started), Ordering::Relaxed);
    }
}

/// Why a batch did not commit, told to each of its changes.
struct Failure {
    fault: Option<Fault>,
    detail: String,
}

impl Failure {
    fn of(e: &StoreError) -> Failure {
        Failure {
            fault: e.fault(),
            detail: e.to_string(),
        }
    }

    fn error(&self) -> StoreError {
        match self.fault {
            Some(Fault::DiskFull) => StoreError::DiskFull,
            Some(Fault::Io) => StoreError::Unavailable,
            None => StoreError::Io(std::io::Error::other(self.detail.clone())),
        }
    }
}

/// A change waiting for the writer, whatever it returns.
trait Job: Send {
    /// Runs the change in the batch's transaction; false when it failed (or panicked).
    fn run(&mut self, tx: &WriteTx) -> bool;
    /// Tells the waiting request: what its last run returned once `batch` is `Ok` (the
    /// commit held, or the change failed on its own), else why the batch did not commit.
    fn answer(self: Box<Self>, batch: Result<(), &Failure>);
}

struct Change<F, T, E> {
    f: F,
    out: Option<Result<T, E>>,
    reply: SyncSender<Result<T, E>>,
}

impl<F, T, E> Job for Change<F, T, E>
where
    F: Fn(&WriteTx) -> Result<T, E> + Send,
    T: Send,
    E: From<StoreError> + Send,
{
    fn run(&mut self, tx: &WriteTx) -> bool {
        let f = &self.f;
        match catch_unwind(AssertUnwindSafe(|| f(tx))) {
            Ok(r) => {
                let ok = r.is_ok();
                self.out = Some(r);
                ok
            }
            Err(_) => {
                tracing::error!("a batched change panicked; its batch is run again without it");
                self.out = None;
                false
            }
        }
    }

    fn answer(self: Box<Self>, batch: Result<(), &Failure>) {
        let r = match (batch, self.out) {
            (Ok(()), Some(r)) => r,
            (Ok(()), None) => {
                Err(StoreError::Io(std::io::Error::other("the change panicked")).into())
            }
            (Err(failure), _) => Err(failure.error().into()),
        };
        // The request may have gone (its connection closed): nobody to tell.
        let _ = self.reply.send(r);
    }
}

/// The writer thread and the channel to it; dropping it lets the thread finish what was sent
/// and waits for it.
pub(super) struct Writer {
    sender: Mutex<Option<SyncSender<Box<dyn Job>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    pub(super) fn start(core: Arc<StoreCore>) -> Result<Writer, StoreError> {
        let (sender, receiver) = sync_channel::<Box<dyn Job>>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("hotline-writer".into())
            .spawn(move || {
                // Whether a quiet moment should fold what is pending: once after each batch
                // (a fold that failed, on a full disk say, is not tried again until the next
                // write).
                let mut fold_when_idle = true;
                loop {
                    let first = if fold_when_idle && core.pending() > 0 {
                        match receiver.recv_timeout(FOLD_WHEN_IDLE) {
                            Ok(first) => first,
                            Err(RecvTimeoutError::Timeout) => {
                                core.fold();
                                fold_when_idle = false;
                                continue;
                            }
                            Err(RecvTimeoutError::Disconnected) => break,
                        }
                    } else {
                        match receiver.recv() {
                            Ok(first) => first,
                            Err(_) => break,
                        }
                    };
                    core.batch(&receiver, vec![first]);
                    fold_when_idle = true;
                }
            })?;
        Ok(Writer {
            sender: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(thread)),
        })
    }

    fn sender(&self) -> Option<SyncSender<Box<dyn Job>>> {
        self.sender
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}

impl StoreCore {
    /// Runs `jobs`, and those arriving while they run, in one transaction and commits it;
    /// a change that fails is answered alone and the rest run again.
    fn batch(&self, receiver: &Receiver<Box<dyn Job>>, mut jobs: Vec<Box<dyn Job>>) {
        'again: loop {
            if jobs.is_empty() {
                return;
            }
            if matches!(self.health(), Health::DiskFull { .. }) {
                let failure = Failure::of(&StoreError::DiskFull);
                jobs.into_iter().for_each(|j| j.answer(Err(&failure)));
                return;
            }
            while self.group.exclusive_waiting.load(Ordering::Acquire) > 0 {
                std::thread::sleep(STEP_ASIDE);
            }
            let tx = match self.begin() {
                Ok(tx) => tx,
                Err(e) => {
                    let failure = Failure::of(&e);
                    jobs.into_iter().for_each(|j| j.answer(Err(&failure)));
                    return;
                }
            };
            let opened = Instant::now();
            let waiting = super::pending::waiting(&tx).unwrap_or(0);
            super::sums::defer();
            let mut i = 0;
            loop {
                while i < jobs.len() {
                    let began = Instant::now();
                    let ok = jobs[i].run(&tx);
                    self.group
                        .change_micros
                        .fetch_add(micros(began), Ordering::Relaxed);
                    if !ok {
                        // Whatever it wrote goes with the transaction; the others run again.
                        drop(tx);
                        super::sums::discard();
                        jobs.remove(i).answer(Ok(()));
                        self.check();
                        continue 'again;
                    }
                    i += 1;
                }
                if jobs.len() >= BATCH {
                    break;
                }
                match receiver.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            // Under load the batch also folds about as many pending keys as it added (see
            // `pending`), so the tier stays near `FOLD_AT` without a stall of its own; then
            // its sums, each added once.
            let flushed = self
                .fold_in(&tx, waiting)
                .and_then(|()| super::sums::flush(&tx))
                .map_err(|e| self.checked(e));
            super::sums::discard();
            self.group
                .open_micros
                .fetch_add(micros(opened), Ordering::Relaxed);
            let started = Instant::now();
            match flushed.and_then(|()| self.commit(tx)) {
                Ok(()) => {
                    self.group.counted(jobs.len() as u64, started);
                    jobs.into_iter().for_each(|j| j.answer(Ok(())));
                }
                Err(e) => {
                    let failure = Failure::of(&e);
                    jobs.into_iter().for_each(|j| j.answer(Err(&failure)));
                }
            }
            return;
        }
    }

    /// Folds, inside a write's own transaction, a quarter more pending keys than the write
    /// added (at least `FOLD_MIN`) once `FOLD_AT` wait: batches and one-off writes (a bulk
    /// load among them) alike, so the tier never outgrows its bound.
    fn fold_in(&self, tx: &WriteTx, waited: u64) -> Result<(), StoreError> {
        let waiting = super::pending::waiting(tx)?;
        if waiting < super::pending::FOLD_AT {
            return Ok(());
        }
        let added = waiting.saturating_sub(waited);
        let chunk = (added + added / 4).max(super::pending::FOLD_MIN);
        let started = Instant::now();
        let mut from = self
            .group
            .fold_from
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let (_, last) = super::pending::fold_some(
            tx,
            from.as_deref(),
            usize::try_from(chunk).unwrap_or(usize::MAX),
            super::pending::COUNTS_AT,
        )?;
        *from = last;
        self.group.folded(started);
        Ok(())
    }

    /// How many index keys wait to be folded (0 when that cannot be read: the next write
    /// will tell).
    fn pending(&self) -> u64 {
        self.read(super::pending::waiting).unwrap_or(0)
    }

    /// Folds every pending index key and counter into their tables in one transaction (the
    /// writer is idle). On failure they stay pending (reads see them there) for the next try.
    fn fold(&self) {
        if matches!(self.health(), Health::DiskFull { .. }) {
            return;
        }
        while self.group.exclusive_waiting.load(Ordering::Acquire) > 0 {
            std::thread::sleep(STEP_ASIDE);
        }
        let started = Instant::now();
        let folded = self.begin().and_then(|tx| {
            let n = super::pending::fold(&tx)?;
            self.commit(tx)?;
            Ok(n)
        });
        match folded {
            Ok(n) => {
                self.group.folded(started);
                tracing::debug!(keys = n, "pending index keys folded");
            }
            Err(e) => tracing::warn!(error = %e, "folding the pending index keys failed"),
        }
    }

    /// Durable commits made since start, the changes they carried, and where the time went.
    pub fn commit_stats(&self) -> CommitStats {
        let g = &self.group;
        let secs = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64 / 1e6;
        CommitStats {
            commits: g.commits.load(Ordering::Relaxed),
            changes: g.changes.load(Ordering::Relaxed),
            commit_secs: secs(&g.commit_micros),
            open_secs: secs(&g.open_micros),
            change_secs: secs(&g.change_micros),
            folds: g.folds.load(Ordering::Relaxed),
            fold_secs: secs(&g.fold_micros),
        }
    }

    /// Runs a one-off change alone in its own transaction, between batches.
    pub(super) fn exclusive<T, E>(&self, f: impl FnOnce(&WriteTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let waiting = &self.group.exclusive_waiting;
        waiting.fetch_add(1, Ordering::AcqRel);
        // redb lets one write transaction live at a time: this waits for the writer's batch.
        let tx = self.begin();
        waiting.fetch_sub(1, Ordering::AcqRel);
        let tx = tx.map_err(E::from)?;
        let waited = super::pending::waiting(&tx).map_err(E::from)?;
        let value = f(&tx)?;
        self.fold_in(&tx, waited).map_err(E::from)?;
        let started = Instant::now();
        self.commit(tx).map_err(E::from)?;
        self.group.counted(1, started);
        Ok(value)
    }
}

impl Store {
    /// Runs `f` on the writer, in a transaction shared with other changes sent at the same
    /// time, and returns once the shared commit is durable. `f` may run more than once (when
    /// another change in the batch fails, the batch is run again without it); what it returns
    /// comes from the run that was committed.
    pub fn write_batched<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: Fn(&WriteTx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        if matches!(self.health(), Health::DiskFull { .. }) {
            return Err(StoreError::DiskFull.into());
        }
        let Some(sender) = self.writer.sender() else {
            return Err(StoreError::Unavailable.into());
        };
        let (reply, answer) = sync_channel(1);
        let job: Box<dyn Job> = Box::new(Change {
            f,
            out: None,
            reply,
        });
        if sender.send(job).is_err() {
            return Err(StoreError::Unavailable.into());
        }
        answer
            .recv()
            .unwrap_or_else(|_| Err(StoreError::Unavailable.into()))
    }
}
