//! The phone system's call events, and the event stream that pops the intake form up in the
//! browser of the operator at the seat.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::Stream;

use crate::error::AppError;
use crate::http::extract::ApiJson;
use crate::http::{AppState, blocking};
use crate::service::{Actor, App, Push, cti};

/// `POST /api/v1/cti/events` `{event, seat, caller, call_id}` (the CTI token).
pub async fn event(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<cti::CallEvent>,
) -> Result<Json<cti::EventResult>, AppError> {
    Ok(Json(
        blocking(&state, move |app| cti::event(app, &actor, body)).await?,
    ))
}

/// Event streams open at once, in all (an office has a few dozen browsers).
const MAX_STREAMS: usize = 64;
/// A stream ends after this long and the browser opens a new one: nothing outlives the
/// connection's idle limit, and a signed-out session is dropped within it.
const STREAM_LIFE: Duration = Duration::from_secs(55);
/// How often a stream checks that its session is still signed in.
const SESSION_CHECK: Duration = Duration::from_secs(15);

/// Counts an open stream; uncounts it when dropped.
struct Open(Arc<App>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.streams.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `GET /api/v1/me/events`: server-sent events for this session — `call` when a call rings
/// at the seat it holds (the browser opens the intake form), `call_state` when it is
/// answered or hung up.
pub async fn stream(State(state): State<AppState>, actor: Actor) -> Result<Response, AppError> {
    let app = state.app.clone();
    if app.streams.fetch_add(1, Ordering::SeqCst) >= MAX_STREAMS {
        app.streams.fetch_sub(1, Ordering::SeqCst);
        return Err(AppError::Throttled { retry_after: 10 });
    }
    let open = Open(app.clone());
    let a = actor.clone();
    let seat = blocking(&state, move |app| crate::service::auth::my_seat(app, &a)).await?;
    // A call that rang a moment before this browser (re)connected is offered at once.
    let first = seat.and_then(|s| cti::ringing_at(&app, s));
    let rx = app.pushes.subscribe();
    let stop = app.stopping.subscribe();
    let s = events(app, actor.session_key.clone(), first, rx, stop, open);
    Ok(Sse::new(s)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
        .into_response())
}

fn to_event(p: &Push) -> Event {
    Event::default().event(p.event).data(p.data.clone())
}

fn events(
    app: Arc<App>,
    session: Vec<u8>,
    first: Option<Push>,
    rx: tokio::sync::broadcast::Receiver<Push>,
    stop: tokio::sync::watch::Receiver<bool>,
    open: Open,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let ends = tokio::time::Instant::now() + STREAM_LIFE;
    let hello = Event::default()
        .event("hello")
        .data("{}")
        .retry(Duration::from_millis(1500));
    // Popped from the end: the greeting first, then a call ringing already.
    let mut pending: Vec<Event> = std::iter::once(hello)
        .chain(first.as_ref().map(to_event))
        .collect();
    pending.reverse();
    futures_util::stream::unfold(
        (app, session, rx, stop, open, pending),
        move |(app, session, mut rx, mut stop, open, mut pending)| async move {
            if let Some(e) = pending.pop() {
                return Some((Ok(e), (app, session, rx, stop, open, pending)));
            }
            loop {
                if *stop.borrow() {
                    return None;
                }
                let check = tokio::time::sleep(SESSION_CHECK);
                tokio::select! {
                    got = rx.recv() => match got {
                        Ok(p) if p.target == session => {
                            return Some((Ok(to_event(&p)), (app, session, rx, stop, open, pending)));
                        }
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    },
                    () = check => {
                        let a = app.clone();
                        let key = session.clone();
                        let live = tokio::task::spawn_blocking(move || cti::session_live(&a, &key))
                            .await
                            .unwrap_or(false);
                        if !live {
                            return None;
                        }
                    }
                    () = tokio::time::sleep_until(ends) => return None,
                    _ = stop.changed() => return None,
                }
            }
        },
    )
}
