//! Waiting for a job: the back-off schedule, the per-node "seen set" rules and
//! the poll loop, over small traits so they are tested without sockets or
//! real time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{Error, Result, TimeoutPhase};

use super::status::{JobInfo, NodeJobState, NodeProgress, Outcome, Progress};

/// First delay between two polls: a short job's end is seen within a few ms.
const FIRST_POLL_DELAY: Duration = Duration::from_millis(1);
/// Shortest delay once the nodes' progress says the job is about to end: the
/// end is then seen within this (plus one round trip) of the last node's end.
const NEAR_END_DELAY: Duration = Duration::from_millis(2);
/// Past its predicted end, a job is polled 2, 4, 8, ... ms later but at
/// least every this fraction of its run time, for a quarter of its run time
/// (at most 16 polls at that pace); a longer overrun goes on doubling from
/// there. A short job's end is seen within 2 ms even when its last
/// partitions overrun the prediction by a quarter of the run.
const NEAR_END_FRACTION: u32 = 64;
/// Not-found replies an unseen node gets before it counts as finished.
const GRACE_POLLS: u32 = 3;
/// Time an unseen node gets, from its first not-found reply, before it counts
/// as finished (both this and [`GRACE_POLLS`] must pass).
const GRACE_PERIOD: Duration = Duration::from_millis(100);

/// Options of [`ExecuteTask::wait`](crate::task::ExecuteTask::wait).
///
/// Polling starts 1 ms after the call and the delay doubles up to
/// `poll_interval`, so a short job's end is noticed within milliseconds while
/// a long job is polled at most once per interval per node. Each poll also
/// predicts the end from the nodes' progress (`job-progress` against
/// `run-time`, and the rate since the last poll when it is faster); the next
/// poll comes at most a third of the way to that prediction (so
/// the polls close in on it), and a job still running at its predicted end
/// is polled 2, 4, 8, ... ms after it, at first at least every 1/64 of its
/// run time (every 2 ms for a job of up to 128 ms) for a quarter of its run
/// time. So the end of a job of any length is noticed within a few
/// milliseconds, at the cost of a few extra polls near its end (at most
/// about 16 plus the doubling's).
///
/// ```
/// use aerospike_blocking::task::WaitOptions;
/// use std::time::Duration;
/// let o = WaitOptions::default().timeout(Duration::from_secs(30));
/// assert_eq!(o.poll_interval, Duration::from_secs(1));
/// assert_eq!(o.timeout, Some(Duration::from_secs(30)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    /// Longest delay between two status checks. Default 1 s.
    pub poll_interval: Duration,
    /// Give up after this long (the job keeps running). `None`, the default,
    /// waits until the job ends or a status check fails.
    pub timeout: Option<Duration>,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            poll_interval: Duration::from_secs(1),
            timeout: None,
        }
    }
}

impl WaitOptions {
    /// Sets the longest delay between two status checks.
    ///
    /// ```
    /// use aerospike_blocking::task::WaitOptions;
    /// use std::time::Duration;
    /// let o = WaitOptions::default().poll_interval(Duration::from_millis(250));
    /// assert_eq!(o.poll_interval, Duration::from_millis(250));
    /// ```
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d;
        self
    }

    /// Sets the overall time limit.
    ///
    /// ```
    /// use aerospike_blocking::task::WaitOptions;
    /// use std::time::Duration;
    /// assert!(WaitOptions::default().timeout(Duration::from_secs(1)).timeout.is_some());
    /// ```
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }
}

/// Delays between polls: 1 ms, doubling, capped at the poll interval.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) fn new(max: Duration) -> Self {
        Self::starting_at(FIRST_POLL_DELAY, max)
    }

    fn starting_at(first: Duration, max: Duration) -> Self {
        Backoff {
            next: first.min(max),
            max,
        }
    }

    pub(crate) fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }
}

/// When a job should end, from its running nodes' progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prediction {
    /// The time left on the slowest node.
    pub(crate) left: Duration,
    /// The longest run time reported.
    pub(crate) run_time: Duration,
}

/// A node's progress at one poll: its name, run time and percent done.
pub(crate) type Sample = (String, Duration, f64);

/// The running nodes' progress samples of a poll, for the next [`predict`].
pub(crate) fn samples(progress: &Progress) -> Vec<Sample> {
    progress
        .nodes
        .iter()
        .filter_map(|n| {
            let i = n.info.as_ref()?;
            Some((n.node.clone(), i.run_time, i.progress_percent))
        })
        .collect()
}

/// Shortest run time between two samples for their rate to count: below
/// it, the millisecond `run-time` makes the rate too coarse.
const MIN_RATE_SPAN: Duration = Duration::from_millis(4);

/// When the running nodes' progress says the job ends: for each node, the
/// time left at its rate so far (`run_time × (100 − p) / p`) or, when it
/// is faster, at its rate since the `before` poll (a node speeds up when
/// others sharing its machine finish); the longest of them. `None` unless
/// every node still to finish is running and shows progress and a run time
/// (a node not seen yet, or unreachable, tells nothing).
pub(crate) fn predict(progress: &Progress, before: &[Sample]) -> Option<Prediction> {
    let mut longest: Option<Prediction> = None;
    for n in &progress.nodes {
        if n.state.is_final() {
            continue;
        }
        if n.state != NodeJobState::Running {
            return None;
        }
        let info = n.info.as_ref()?;
        let p = info.progress_percent;
        if p.is_nan() || p <= 0.0 || info.run_time.is_zero() {
            return None;
        }
        let mut left = info.run_time.mul_f64((100.0 - p).max(0.0) / p);
        if let Some((_, rt0, p0)) = before.iter().find(|(name, ..)| *name == n.node) {
            let span = info.run_time.saturating_sub(*rt0);
            if span >= MIN_RATE_SPAN && p > *p0 {
                left = left.min(span.mul_f64((100.0 - p).max(0.0) / (p - p0)));
            }
        }
        let run_time = info.run_time;
        longest = Some(match longest {
            None => Prediction { left, run_time },
            Some(l) => Prediction {
                left: l.left.max(left),
                run_time: l.run_time.max(run_time),
            },
        });
    }
    longest
}

/// Polling a job past its predicted end (see [`NEAR_END_FRACTION`]).
struct Overrun {
    /// The end of the quarter of the run time polled closely.
    window_end: Instant,
    steps: Backoff,
}

impl Overrun {
    fn new(now: Instant, run_time: Duration, interval: Duration) -> Self {
        let fraction = (run_time / NEAR_END_FRACTION)
            .max(NEAR_END_DELAY)
            .min(interval);
        Overrun {
            window_end: now + run_time / 4,
            steps: Backoff::starting_at(NEAR_END_DELAY, fraction),
        }
    }

    fn next_delay(&mut self, now: Instant, interval: Duration) -> Duration {
        // Past the window (once: the steps' limit is then the interval), the
        // delay doubles from the window's step up to the interval.
        if now >= self.window_end && self.steps.max < interval {
            self.steps = Backoff::starting_at(self.steps.max * 2, interval);
        }
        self.steps.next_delay()
    }
}

/// What one status request to one node found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Observation {
    /// The node's row for the job.
    Row(Box<JobInfo>),
    /// An empty reply or `ERROR:2`.
    NotFound,
    /// The node is no longer in the cluster.
    Gone,
    /// The request failed.
    Failed(String),
}

/// One node's state, with the seen-set rules.
#[derive(Debug, Clone)]
pub(crate) struct NodeTracker {
    pub(crate) name: String,
    state: NodeJobState,
    seen: bool,
    unseen_polls: u32,
    first_unseen: Option<Instant>,
    info: Option<JobInfo>,
    /// The node's share of the job: the partitions it mastered at the start.
    pub(crate) partitions: Arc<[u16]>,
    /// The node's partition generation the share was read from.
    pub(crate) start_generation: Option<u64>,
}

impl NodeTracker {
    /// A node where the job was started (or is expected).
    #[cfg(test)]
    pub(crate) fn new(name: &str) -> Self {
        Self::with_state(name, NodeJobState::Pending)
    }

    /// A node whose state is already known (e.g. nothing to do there).
    pub(crate) fn with_state(name: &str, state: NodeJobState) -> Self {
        NodeTracker {
            name: name.to_owned(),
            state,
            seen: false,
            unseen_polls: 0,
            first_unseen: None,
            info: None,
            partitions: Arc::from([]),
            start_generation: None,
        }
    }

    pub(crate) fn is_final(&self) -> bool {
        self.state.is_final()
    }

    /// Applies one observation made at `now`. Final states never change.
    pub(crate) fn observe(&mut self, obs: Observation, now: Instant) {
        if self.is_final() {
            return;
        }
        self.state = match obs {
            Observation::Row(info) => {
                self.seen = true;
                let state = if info.done {
                    NodeJobState::Done(info.result.clone())
                } else {
                    NodeJobState::Running
                };
                self.info = Some(*info);
                state
            }
            Observation::NotFound if self.seen => NodeJobState::Lost,
            Observation::NotFound => {
                self.unseen_polls += 1;
                let first = *self.first_unseen.get_or_insert(now);
                if self.unseen_polls >= GRACE_POLLS && now.duration_since(first) >= GRACE_PERIOD {
                    NodeJobState::NeverSeen
                } else {
                    NodeJobState::Pending
                }
            }
            Observation::Gone => NodeJobState::Lost,
            Observation::Failed(msg) => NodeJobState::Unreachable(msg),
        };
    }

    /// True when the node's share cannot have moved: it has none, or the
    /// partition generation `seen` in its last status reply is the one its
    /// share was read from (a node's generation changes whenever its
    /// partitions do).
    pub(crate) fn share_unmoved(&self, seen: Option<u64>) -> bool {
        self.partitions.is_empty() || (seen.is_some() && seen == self.start_generation)
    }

    pub(crate) fn row(&self) -> NodeProgress {
        NodeProgress {
            node: self.name.clone(),
            state: self.state.clone(),
            info: self.info.clone(),
            partitions: self.partitions.to_vec(),
        }
    }
}

/// Where the poll loop gets its observations.
pub(crate) trait JobSource {
    /// Asks each named node once about the job. Transport failures are
    /// [`Observation::Failed`]; an error reply from a server is an `Err`.
    fn poll(&mut self, nodes: &[String]) -> Result<Vec<(String, Observation)>>;
}

/// Time, for the poll loop.
pub(crate) trait Clock {
    fn now(&self) -> Instant;
    fn sleep(&mut self, d: Duration);
}

/// The real clock.
#[derive(Debug)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// Polls the nodes that are not final once and updates their trackers.
pub(crate) fn poll_once(
    src: &mut dyn JobSource,
    trackers: &mut [NodeTracker],
    now: Instant,
) -> Result<Progress> {
    let pending: Vec<String> = trackers
        .iter()
        .filter(|t| !t.is_final())
        .map(|t| t.name.clone())
        .collect();
    if !pending.is_empty() {
        for (name, obs) in src.poll(&pending)? {
            if let Some(t) = trackers.iter_mut().find(|t| t.name == name) {
                t.observe(obs, now);
            }
        }
    }
    Ok(Progress::from_rows(
        trackers.iter().map(NodeTracker::row).collect(),
    ))
}

/// Polls (with `poll`, given the current time) until every node is final,
/// with back-off, calling `on_progress` after each poll.
pub(crate) fn wait_loop(
    poll: &mut dyn FnMut(Instant) -> Result<Progress>,
    clock: &mut dyn Clock,
    opts: &WaitOptions,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Outcome> {
    let start = clock.now();
    let mut backoff = Backoff::new(opts.poll_interval);
    let mut near_end: Option<Overrun> = None;
    let mut before: Vec<Sample> = Vec::new();
    loop {
        let progress = poll(clock.now())?;
        on_progress(&progress);
        if let Some(outcome) = progress.outcome() {
            return Ok(outcome);
        }
        let mut delay = backoff.next_delay();
        let prediction = predict(&progress, &before);
        before = samples(&progress);
        match prediction {
            // Close in on the predicted end by thirds (a node often speeds
            // up when others finish: predictions err on the late side)...
            Some(Prediction { left, .. }) if left > NEAR_END_DELAY => {
                near_end = None;
                let third = left / 3;
                delay = delay.min(if third < NEAR_END_DELAY { left } else { third });
            }
            // ... and, when it has not ended by then (its last partitions
            // are slower than the average), 2, 4, 8, ... ms later, at first
            // at least every 1/64 of its run time.
            Some(Prediction { run_time, .. }) => {
                let now = clock.now();
                let step = near_end
                    .get_or_insert_with(|| Overrun::new(now, run_time, opts.poll_interval))
                    .next_delay(now, opts.poll_interval);
                delay = delay.min(step);
            }
            None => near_end = None,
        }
        if let Some(limit) = opts.timeout {
            let elapsed = clock.now().duration_since(start);
            if elapsed >= limit {
                return Err(Error::Timeout {
                    phase: TimeoutPhase::Wait,
                    elapsed,
                    in_doubt: false,
                });
            }
            delay = delay.min(limit - elapsed);
        }
        clock.sleep(delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::status::JobResult;

    struct FakeClock {
        now: Instant,
        sleeps: Vec<Duration>,
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.now
        }
        fn sleep(&mut self, d: Duration) {
            self.sleeps.push(d);
            self.now += d;
        }
    }

    /// A fake clock whose time a job source reads too.
    struct SharedClock(FakeClock, std::rc::Rc<std::cell::Cell<Instant>>);

    impl SharedClock {
        /// A clock starting now, and the time it shares with a job source.
        fn start() -> (SharedClock, std::rc::Rc<std::cell::Cell<Instant>>) {
            let t0 = Instant::now();
            let shared = std::rc::Rc::new(std::cell::Cell::new(t0));
            let clock = FakeClock {
                now: t0,
                sleeps: vec![],
            };
            (SharedClock(clock, shared.clone()), shared)
        }
    }

    impl Clock for SharedClock {
        fn now(&self) -> Instant {
            self.0.now()
        }
        fn sleep(&mut self, d: Duration) {
            self.0.sleep(d);
            self.1.set(self.0.now);
        }
    }

    /// A job that runs for `runs_for` after `t0` on every node, then is done.
    struct FakeJob {
        t0: Instant,
        runs_for: Duration,
        clock_now: std::rc::Rc<std::cell::Cell<Instant>>,
        polls: usize,
        /// `Some(t)`: rows carry `run-time` and a `job-progress` that grows
        /// evenly to 100 % at `t` (a real server's counts partitions claimed,
        /// so it reaches 100 % while the last ones are still worked on);
        /// `None`: a fixed 50 % and no run time.
        progress_until: Option<Duration>,
    }

    /// A running row `elapsed` into a job whose progress reaches 100 % at `until`.
    fn progressing_row(elapsed: Duration, until: Duration) -> JobInfo {
        let pct = (100.0 * elapsed.as_secs_f64() / until.as_secs_f64()).min(100.0);
        JobInfo::parse(&format!(
            "trid=1:ns=test:set=s:status=active(ok):job-progress={pct:.2}:run-time={}:recs-succeeded=5:recs-failed=0",
            elapsed.as_millis()
        ))
        .unwrap()
    }

    fn row(done: bool) -> JobInfo {
        let status = if done { "done(ok)" } else { "active(ok)" };
        JobInfo::parse(&format!(
            "trid=1:ns=test:set=s:status={status}:job-progress={}:recs-succeeded=5:recs-failed=0",
            if done { 100 } else { 50 }
        ))
        .unwrap()
    }

    impl JobSource for FakeJob {
        fn poll(&mut self, nodes: &[String]) -> Result<Vec<(String, Observation)>> {
            self.polls += nodes.len();
            let elapsed = self.clock_now.get().duration_since(self.t0);
            let done = elapsed >= self.runs_for;
            let info = match self.progress_until {
                Some(until) if !done => progressing_row(elapsed, until),
                _ => row(done),
            };
            Ok(nodes
                .iter()
                .map(|n| (n.clone(), Observation::Row(Box::new(info.clone()))))
                .collect())
        }
    }

    /// Runs the loop with a fake clock shared by the source.
    fn run(
        runs_for: Duration,
        opts: WaitOptions,
        nodes: usize,
    ) -> (Result<Outcome>, Vec<Duration>, usize) {
        run_job(runs_for, opts, nodes, None)
    }

    /// Like [`run`], the rows reporting progress as a real server's do.
    fn run_job(
        runs_for: Duration,
        opts: WaitOptions,
        nodes: usize,
        progress_until: Option<Duration>,
    ) -> (Result<Outcome>, Vec<Duration>, usize) {
        let (mut clock, shared) = SharedClock::start();
        let t0 = clock.now();
        let mut job = FakeJob {
            t0,
            runs_for,
            clock_now: shared,
            polls: 0,
            progress_until,
        };
        let mut trackers: Vec<NodeTracker> = (0..nodes)
            .map(|i| NodeTracker::new(&format!("N{i}")))
            .collect();
        let r = wait_on(&mut job, &mut trackers, &mut clock, &opts);
        (r, clock.0.sleeps, job.polls)
    }

    /// Waits on `job` for `trackers` with `opts`, ignoring the progress.
    fn wait_on(
        job: &mut dyn JobSource,
        trackers: &mut [NodeTracker],
        clock: &mut dyn Clock,
        opts: &WaitOptions,
    ) -> Result<Outcome> {
        wait_loop(
            &mut |now| poll_once(job, trackers, now),
            clock,
            opts,
            &mut |_| {},
        )
    }

    #[test]
    fn backoff_schedule_doubles_up_to_the_interval() {
        let mut b = Backoff::new(Duration::from_millis(20));
        let got: Vec<u128> = (0..7).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(got, vec![1, 2, 4, 8, 16, 20, 20]);
        let mut tiny = Backoff::new(Duration::from_micros(100));
        assert_eq!(tiny.next_delay(), Duration::from_micros(100));
    }

    #[test]
    fn short_job_end_is_seen_within_a_few_ms() {
        let (r, sleeps, _) = run(Duration::from_millis(3), WaitOptions::default(), 3);
        assert_eq!(r.unwrap(), Outcome::Completed);
        let waited: Duration = sleeps.iter().sum();
        assert!(waited <= Duration::from_millis(7), "{waited:?}");
    }

    #[test]
    fn long_job_is_polled_at_most_once_per_interval_after_ramp_up() {
        let (r, sleeps, polls) = run(Duration::from_secs(10), WaitOptions::default(), 2);
        assert_eq!(r.unwrap(), Outcome::Completed);
        // Ramp 1, 2, ..., 512 ms (1.023 s in 10 sleeps), then 1 s steps
        // until the job's end at 10 s is seen at 10.023 s.
        assert_eq!(
            sleeps
                .iter()
                .filter(|d| **d == Duration::from_secs(1))
                .count(),
            9
        );
        assert!(sleeps.iter().all(|d| *d <= Duration::from_secs(1)));
        assert_eq!(polls, 2 * (sleeps.len() + 1));
        assert!(polls <= 2 * 22, "{polls}");
    }

    /// With progress in the rows, the end of a job of any length is seen
    /// within the near-end delay, and the extra polls stay few.
    #[test]
    fn predicted_end_is_polled_closely_whatever_the_length() {
        for ms in [40, 150, 300, 700, 2_500, 10_000, 60_000] {
            let runs_for = Duration::from_millis(ms);
            let (r, sleeps, polls) = run_job(runs_for, WaitOptions::default(), 3, Some(runs_for));
            assert_eq!(r.unwrap(), Outcome::Completed);
            let waited: Duration = sleeps.iter().sum();
            let lag = waited - runs_for;
            // `job-progress` has two decimals: 0.01 % of the run is the
            // prediction's resolution.
            let resolution = runs_for / 10_000;
            assert!(
                lag <= NEAR_END_DELAY + resolution,
                "{ms} ms job: seen {lag:?} late"
            );
            // The steady polls (one per second), the 1, 2, 4, ... ramp
            // (11), and at most 17 closing in on the end by thirds
            // (log1.5(1 s / 2 ms) + 2).
            let steady = (ms / 1000) as usize;
            assert!(
                polls <= 3 * (steady + 11 + 17),
                "{ms} ms job: {polls} polls"
            );
            assert!(sleeps.iter().all(|d| *d <= Duration::from_secs(1)));
        }
    }

    /// A job whose progress reads 100 % while its last partitions still run
    /// is polled 2, 4, 8, ... ms after the predicted end, at first at least
    /// every 1/64 of its run time: a tail of up to a quarter of the run is
    /// seen within 1/64 of the run (2 ms for a short job), a longer one
    /// within the time it overran; the extra polls stay few.
    #[test]
    fn a_slow_tail_is_polled_closely_then_with_back_off() {
        for (runs_ms, tail_ms) in [
            (1_000, 5),
            (1_000, 20),
            (1_000, 80),
            (1_000, 300),
            (1_000, 600),
            (130, 10),
            (130, 25),
            (60, 10),
            (60, 40),
        ] {
            let runs_for = Duration::from_millis(runs_ms);
            let tail = Duration::from_millis(tail_ms);
            let (r, sleeps, polls) =
                run_job(runs_for, WaitOptions::default(), 1, Some(runs_for - tail));
            assert_eq!(r.unwrap(), Outcome::Completed);
            let lag = sleeps.iter().sum::<Duration>() - runs_for;
            // The window is a quarter of the run time when the tail begins.
            let bound = if tail < (runs_for - tail) / 4 {
                tail.min(runs_for / NEAR_END_FRACTION).max(NEAR_END_DELAY)
            } else {
                tail
            };
            assert!(
                lag <= bound,
                "{runs_ms} ms job, tail {tail_ms} ms: {lag:?} late"
            );
            // The ramp and the thirds (11 + 17), then at most 16 polls at
            // 1/64 of the run and the doubling up to the interval.
            assert!(
                polls <= 11 + 17 + 16 + 10,
                "{runs_ms} ms job, tail {tail_ms} ms: {polls} polls"
            );
        }
    }

    /// A job that runs twice as fast over its second half (a node speeds up
    /// when the others on its machine finish): the end predicted at each
    /// poll is late, and the polls still see the end within a few ms.
    #[test]
    fn a_job_that_speeds_up_is_seen_to_end_promptly() {
        struct Accelerating {
            t0: Instant,
            now: std::rc::Rc<std::cell::Cell<Instant>>,
        }
        impl JobSource for Accelerating {
            fn poll(&mut self, nodes: &[String]) -> Result<Vec<(String, Observation)>> {
                // 50 % in the first 400 ms, the other 50 % in the next 200 ms.
                let t = self.now.get().duration_since(self.t0).as_secs_f64() * 1000.0;
                let info = if t >= 600.0 {
                    row(true)
                } else {
                    let pct = if t < 400.0 {
                        t / 8.0
                    } else {
                        50.0 + (t - 400.0) / 4.0
                    };
                    let mut i = progressing_row(Duration::from_millis(1), Duration::from_millis(1));
                    i.progress_percent = pct;
                    i.run_time = Duration::from_secs_f64(t / 1000.0);
                    i
                };
                Ok(nodes
                    .iter()
                    .map(|n| (n.clone(), Observation::Row(Box::new(info.clone()))))
                    .collect())
            }
        }
        let (mut clock, now) = SharedClock::start();
        let mut job = Accelerating {
            t0: clock.now(),
            now,
        };
        let mut trackers = vec![NodeTracker::new("A")];
        let r = wait_on(&mut job, &mut trackers, &mut clock, &WaitOptions::default());
        assert_eq!(r.unwrap(), Outcome::Completed);
        let lag = clock.0.sleeps.iter().sum::<Duration>() - Duration::from_millis(600);
        assert!(lag <= Duration::from_millis(5), "seen {lag:?} late");
        assert!(
            clock.0.sleeps.len() <= 11 + 11 + 4,
            "{} polls",
            clock.0.sleeps.len() + 1
        );
    }

    #[test]
    fn prediction_needs_every_running_node_to_show_progress() {
        let running = |info: Option<JobInfo>| NodeProgress {
            node: "A".into(),
            state: NodeJobState::Running,
            info,
            partitions: vec![],
        };
        let at = |pct: f64, ms: u64| {
            let mut i = row(false);
            i.progress_percent = pct;
            i.run_time = Duration::from_millis(ms);
            Some(i)
        };
        let p = |rows| Progress::from_rows(rows);
        let ms = |left: u64, run_time: u64| {
            Some(Prediction {
                left: Duration::from_millis(left),
                run_time: Duration::from_millis(run_time),
            })
        };
        assert_eq!(predict(&p(vec![running(at(25.0, 100))]), &[]), ms(300, 100));
        // The slowest node decides.
        assert_eq!(
            predict(
                &p(vec![running(at(50.0, 100)), running(at(80.0, 400))]),
                &[]
            ),
            ms(100, 400)
        );
        assert_eq!(predict(&p(vec![running(at(0.0, 100))]), &[]), None);
        assert_eq!(predict(&p(vec![running(at(50.0, 0))]), &[]), None);
        assert_eq!(predict(&p(vec![running(None)]), &[]), None);
        // Finished nodes are left out; a node not seen yet tells nothing.
        let with = |state| NodeProgress {
            state,
            ..running(None)
        };
        let done = with(NodeJobState::Done(JobResult::Ok));
        assert_eq!(
            predict(&p(vec![done.clone(), running(at(50.0, 10))]), &[]),
            ms(10, 10)
        );
        assert_eq!(predict(&p(vec![done.clone()]), &[]), None);
        assert_eq!(
            predict(
                &p(vec![
                    done,
                    with(NodeJobState::Pending),
                    running(at(50.0, 10))
                ]),
                &[]
            ),
            None
        );
    }

    #[test]
    fn a_node_that_speeds_up_is_predicted_at_its_recent_rate() {
        let row = |pct: f64, ms: u64| {
            let mut i = row(false);
            i.progress_percent = pct;
            i.run_time = Duration::from_millis(ms);
            NodeProgress {
                node: "A".into(),
                state: NodeJobState::Running,
                info: Some(i),
                partitions: vec![],
            }
        };
        let now = Progress::from_rows(vec![row(50.0, 100)]);
        // 10 % a 50 ms before, now 50 % at 100 ms: 0.8 %/ms lately, so
        // 62.5 ms left instead of the average's 100.
        let before = samples(&Progress::from_rows(vec![row(10.0, 50)]));
        let left = |b: &[Sample]| predict(&now, b).map(|p| p.left);
        assert_eq!(left(&before), Some(Duration::from_micros(62_500)));
        // A node slowing down keeps the average; a span under 4 ms of run
        // time, another node's sample, or no progress since tell nothing.
        for b in [
            samples(&Progress::from_rows(vec![row(49.0, 50)])),
            samples(&Progress::from_rows(vec![row(45.0, 97)])),
            vec![("B".to_owned(), Duration::from_millis(50), 10.0)],
            samples(&Progress::from_rows(vec![row(50.0, 60)])),
        ] {
            assert_eq!(left(&b), Some(Duration::from_millis(100)), "{b:?}");
        }
    }

    #[test]
    fn timeout_says_wait_and_never_oversleeps() {
        let opts = WaitOptions::default().timeout(Duration::from_millis(2500));
        let (r, sleeps, _) = run(Duration::from_secs(60), opts, 1);
        match r.unwrap_err() {
            Error::Timeout { phase, elapsed, .. } => {
                assert_eq!(phase, TimeoutPhase::Wait);
                assert_eq!(elapsed, Duration::from_millis(2500));
            }
            e => panic!("{e}"),
        }
        assert_eq!(sleeps.iter().sum::<Duration>(), Duration::from_millis(2500));
    }

    #[test]
    fn seen_set_rules() {
        let t = Instant::now();
        // A node that never showed the job: pending for the grace polls and
        // period, then never-seen (finished).
        let mut n = NodeTracker::new("A");
        n.observe(Observation::NotFound, t);
        n.observe(Observation::NotFound, t + Duration::from_millis(1));
        n.observe(Observation::NotFound, t + Duration::from_millis(3));
        assert_eq!(
            n.row().state,
            NodeJobState::Pending,
            "grace period not over"
        );
        n.observe(Observation::NotFound, t + GRACE_PERIOD);
        assert_eq!(n.row().state, NodeJobState::NeverSeen);
        assert!(n.is_final());

        // Two not-found polls far apart are not enough either.
        let mut n = NodeTracker::new("A");
        n.observe(Observation::NotFound, t);
        n.observe(Observation::NotFound, t + Duration::from_secs(5));
        assert_eq!(n.row().state, NodeJobState::Pending);

        // Seen running, then not found: lost.
        let mut n = NodeTracker::new("B");
        n.observe(Observation::Row(Box::new(row(false))), t);
        assert_eq!(n.row().state, NodeJobState::Running);
        n.observe(Observation::NotFound, t);
        assert_eq!(n.row().state, NodeJobState::Lost);

        // Done is final: later replies change nothing.
        let mut n = NodeTracker::new("C");
        n.observe(Observation::Row(Box::new(row(true))), t);
        n.observe(Observation::NotFound, t);
        assert_eq!(n.row().state, NodeJobState::Done(JobResult::Ok));

        // A failed request is retried; a node that left is lost.
        let mut n = NodeTracker::new("D");
        n.observe(Observation::Failed("reset".into()), t);
        assert_eq!(n.row().state, NodeJobState::Unreachable("reset".into()));
        assert!(!n.is_final());
        n.observe(Observation::Gone, t);
        assert_eq!(n.row().state, NodeJobState::Lost);
    }

    #[test]
    fn a_share_is_unmoved_only_at_its_start_generation() {
        let mut t = NodeTracker::new("A");
        assert!(t.share_unmoved(None), "no share, nothing to move");
        t.partitions = Arc::from([1, 2]);
        assert!(!t.share_unmoved(Some(4)), "start generation unknown");
        t.start_generation = Some(4);
        assert!(t.share_unmoved(Some(4)));
        assert!(!t.share_unmoved(Some(5)));
        assert!(!t.share_unmoved(None), "no generation in the replies");
    }

    /// Node A finishes at once; node B never shows the job.
    struct HalfKnown;

    impl JobSource for HalfKnown {
        fn poll(&mut self, nodes: &[String]) -> Result<Vec<(String, Observation)>> {
            Ok(nodes
                .iter()
                .map(|n| {
                    let obs = if n == "A" {
                        Observation::Row(Box::new(row(true)))
                    } else {
                        Observation::NotFound
                    };
                    (n.clone(), obs)
                })
                .collect())
        }
    }

    #[test]
    fn unseen_node_counts_as_finished_after_the_grace_period() {
        let mut clock = FakeClock {
            now: Instant::now(),
            sleeps: vec![],
        };
        let mut trackers = vec![NodeTracker::new("A"), NodeTracker::new("B")];
        let mut last = None;
        let r = wait_loop(
            &mut |now| poll_once(&mut HalfKnown, &mut trackers, now),
            &mut clock,
            &WaitOptions::default(),
            &mut |p| last = Some(p.clone()),
        );
        assert_eq!(r.unwrap(), Outcome::Completed);
        let waited: Duration = clock.sleeps.iter().sum();
        assert!(
            waited >= GRACE_PERIOD && waited < GRACE_PERIOD * 3,
            "{waited:?}"
        );
        let last = last.unwrap();
        assert_eq!(last.nodes[1].state, NodeJobState::NeverSeen);
        assert_eq!(last.succeeded, 5);
    }

    /// An error reply from a server ends the wait with that error.
    struct Refusing;

    impl JobSource for Refusing {
        fn poll(&mut self, _nodes: &[String]) -> Result<Vec<(String, Observation)>> {
            Err(Error::invalid("refused"))
        }
    }

    #[test]
    fn server_errors_end_the_wait() {
        let mut clock = FakeClock {
            now: Instant::now(),
            sleeps: vec![],
        };
        let mut trackers = vec![NodeTracker::new("A")];
        let r = wait_on(
            &mut Refusing,
            &mut trackers,
            &mut clock,
            &WaitOptions::default(),
        );
        assert!(matches!(r, Err(Error::InvalidArgument(_))));
        assert!(clock.sleeps.is_empty());
    }
}
