//! Group commit: concurrent writers share one durable commit.
//!
//! The first writer to find no batch open begins a write transaction and becomes the batch's
//! leader; writers arriving while the previous commit is on the disk join the next batch:
//! each runs its change in the shared transaction, in turn, then waits. The leader lets those
//! already waiting add theirs (a couple of milliseconds at most), commits once with
//! `Durability::Immediate`, and tells every member. Nobody hears "done" before the fsync.
//!
//! A change that fails aborts the whole batch (whatever it wrote goes with it) and the other
//! members run theirs again in the next one — which is why a batched change is an `Fn`.
//! One-off changes (`Store::write`) still run alone in their own transaction, between batches.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Fault, Health, Store, StoreError, WriteTx};

/// How long a leader waits for writers already queued to join its batch.
const GATHER: Duration = Duration::from_millis(2);
/// Batch outcomes kept for members that have not read theirs yet.
const OUTCOMES: usize = 256;

#[derive(Default)]
pub(super) struct Group {
    state: Mutex<State>,
    /// Signalled when the batch opens, gains a member, or stops being busy.
    cv: Condvar,
    /// Signalled when a batch's outcome is recorded: the members waiting for it wake once a
    /// batch, not once for every other member that joins.
    done: Condvar,
    /// Commits made, and changes committed in them (their ratio is the batching).
    commits: AtomicU64,
    changes: AtomicU64,
    /// Microseconds spent in those commits (writing the pages and the fsync).
    commit_micros: AtomicU64,
}

#[derive(Default)]
struct State {
    /// Changes run in the open batch.
    members: u64,
    /// The batch being filled.
    open: Option<WriteTx>,
    epoch: u64,
    /// Batched writers waiting to join (a commit or a one-off change is under way).
    waiting: usize,
    /// A batch is committing, or a one-off change runs.
    busy: bool,
    outcomes: VecDeque<(u64, Outcome)>,
}

#[derive(Clone, Debug)]
enum Outcome {
    Committed,
    /// The commit failed; every member gets the error.
    Failed(Option<Fault>, String),
    /// A member's change failed: the others run again.
    Aborted,
}

impl Outcome {
    fn error(fault: Option<Fault>, detail: &str) -> StoreError {
        match fault {
            Some(Fault::DiskFull) => StoreError::DiskFull,
            Some(Fault::Io) => StoreError::Unavailable,
            None => StoreError::Io(std::io::Error::other(detail.to_string())),
        }
    }
}

impl Group {
    fn counted(&self, members: u64, started: Instant) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.changes.fetch_add(members, Ordering::Relaxed);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.commit_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'a>(&self, g: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.cv.wait(g).unwrap_or_else(|p| p.into_inner())
    }

    fn wait_done<'a>(&self, g: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.done.wait(g).unwrap_or_else(|p| p.into_inner())
    }

    /// Records a batch's outcome and wakes its members and everyone waiting for a turn.
    fn finish(&self, st: &mut State, epoch: u64, o: Outcome) {
        st.record(epoch, o);
        self.done.notify_all();
        self.cv.notify_all();
    }
}

impl State {
    fn outcome(&self, epoch: u64) -> Option<Outcome> {
        self.outcomes
            .iter()
            .find(|(e, _)| *e == epoch)
            .map(|(_, o)| o.clone())
    }

    fn record(&mut self, epoch: u64, o: Outcome) {
        self.outcomes.push_back((epoch, o));
        while self.outcomes.len() > OUTCOMES {
            self.outcomes.pop_front();
        }
    }
}

impl Store {
    /// Runs `f` in a transaction shared with other writers that arrive at the same time, and
    /// returns once the shared commit is durable. `f` may run more than once (when another
    /// member's change fails, the batch is redone without it); what it returns comes from
    /// the run that was committed.
    pub fn write_batched<T, E>(&self, f: impl Fn(&WriteTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        loop {
            if matches!(self.health(), Health::DiskFull { .. }) {
                return Err(StoreError::DiskFull.into());
            }
            let group = &self.group;
            let mut st = group.lock();
            st.waiting += 1;
            while st.busy {
                st = group.wait(st);
            }
            st.waiting -= 1;
            let leader = st.open.is_none();
            if leader {
                let tx = self.begin().map_err(E::from)?;
                st.open = Some(tx);
                st.epoch += 1;
                st.members = 0;
            }
            let epoch = st.epoch;
            let result = match st.open.as_ref() {
                Some(tx) => f(tx),
                None => Err(StoreError::Unavailable.into()),
            };
            let value = match result {
                Ok(v) => v,
                Err(e) => {
                    // Whatever it wrote goes with the batch: abort it; the others run again.
                    st.open = None;
                    group.finish(&mut st, epoch, Outcome::Aborted);
                    drop(st);
                    self.check();
                    return Err(e);
                }
            };
            st.members += 1;
            group.cv.notify_all();
            if !leader {
                loop {
                    match st.outcome(epoch) {
                        Some(Outcome::Committed) => return Ok(value),
                        Some(Outcome::Failed(fault, detail)) => {
                            return Err(Outcome::error(fault, &detail).into());
                        }
                        Some(Outcome::Aborted) => break,
                        None => st = group.wait_done(st),
                    }
                }
                continue;
            }
            // Let the writers already queued add their changes.
            let until = Instant::now() + GATHER;
            while st.waiting > 0 && st.epoch == epoch && st.open.is_some() {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                st = group
                    .cv
                    .wait_timeout(st, left)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            if st.epoch != epoch || st.open.is_none() {
                // A member's change failed and took the batch with it: run again.
                continue;
            }
            let Some(tx) = st.open.take() else {
                continue;
            };
            st.busy = true;
            let members = st.members;
            drop(st);
            let started = Instant::now();
            let committed = self.commit(tx);
            if committed.is_ok() {
                group.counted(members, started);
            }
            let mut st = group.lock();
            st.busy = false;
            let outcome = match &committed {
                Ok(()) => Outcome::Committed,
                Err(e) => Outcome::Failed(e.fault(), e.to_string()),
            };
            group.finish(&mut st, epoch, outcome);
            drop(st);
            return committed.map(|()| value).map_err(E::from);
        }
    }

    /// Durable commits made since start, the changes they carried, and the seconds they
    /// took.
    pub fn commit_stats(&self) -> (u64, u64, f64) {
        (
            self.group.commits.load(Ordering::Relaxed),
            self.group.changes.load(Ordering::Relaxed),
            self.group.commit_micros.load(Ordering::Relaxed) as f64 / 1e6,
        )
    }

    /// Runs a one-off change alone in its own transaction, between batches.
    pub(super) fn exclusive<T, E>(&self, f: impl FnOnce(&WriteTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let group = &self.group;
        let mut st = group.lock();
        while st.busy || st.open.is_some() {
            st = group.wait(st);
        }
        st.busy = true;
        drop(st);
        let result = (|| {
            let tx = self.begin().map_err(E::from)?;
            let value = f(&tx)?;
            let started = Instant::now();
            self.commit(tx).map_err(E::from)?;
            group.counted(1, started);
            Ok(value)
        })();
        let mut st = group.lock();
        st.busy = false;
        group.cv.notify_all();
        drop(st);
        result
    }
}
