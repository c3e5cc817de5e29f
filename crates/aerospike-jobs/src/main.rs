//! `aerospike-jobs`: start, watch, wait for and cancel Aerospike background
//! jobs from shell scripts, with exit codes a script can branch on.
//!
//! ```text
//! aerospike-jobs update test.users --where '$.active == true' --add score=10 --wait
//! case $? in 0) echo done ;; 1) echo records failed ;; 4) echo lost a node ;; esac
//! ```
//!
//! Every subcommand and the JSON shapes: `docs/cli.md`.

mod follow;
mod values;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aerospike_blocking::background::{BackgroundOperationBuilder, DataSet};
use aerospike_blocking::query::Filter;
use aerospike_blocking::task::{ExecuteTask, Outcome, TaskKind};
use aerospike_blocking::{Client, ClientPolicy, Error};
use clap::{Args, Parser, Subcommand};
use serde_json::json;

use follow::{Ending, Show};

/// Exit codes (documented in `docs/cli.md`).
mod exit {
    /// The job completed, or the command did what it was asked.
    pub(crate) const OK: u8 = 0;
    /// The job finished with failed records, a node abandoned it, or the
    /// server refused the command.
    pub(crate) const FAILED: u8 = 1;
    /// Bad arguments (clap's own code), a bad where-clause included.
    pub(crate) const USAGE: u8 = 2;
    /// The job was aborted (`cancel`, another client, `query-abort`).
    pub(crate) const ABORTED: u8 = 3;
    /// A node left or restarted while the job ran: part of the data was
    /// not covered.
    pub(crate) const LOST_NODE: u8 = 4;
    /// `--timeout` ran out before the job finished (it keeps running).
    pub(crate) const TIMED_OUT: u8 = 5;
    /// No node of the cluster could be reached.
    pub(crate) const CANNOT_CONNECT: u8 = 6;
    /// Ctrl-C while waiting: detached, the job keeps running.
    pub(crate) const DETACHED: u8 = 130;
}

#[derive(Parser, Debug)]
#[command(name = "aerospike-jobs", version, about = "Run, watch, wait for and cancel Aerospike background jobs", long_about = None)]
struct Cli {
    /// Seed nodes, `host:port` separated by commas.
    #[arg(
        long,
        env = "AEROSPIKE_HOSTS",
        global = true,
        default_value = "127.0.0.1:3000"
    )]
    hosts: String,
    /// Print one JSON object per result (JSON lines while watching).
    #[arg(long, global = true)]
    json: bool,
    /// Print nothing but errors (the exit code tells the outcome).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start a background update: write, add to, append to or remove bins.
    Update {
        #[command(flatten)]
        job: JobArgs,
        /// Write BIN=VALUE (integers, floats, true/false, JSON, else text).
        #[arg(long = "set", value_name = "BIN=VALUE")]
        set: Vec<String>,
        /// Add N to an integer or float bin (BIN=N).
        #[arg(long, value_name = "BIN=N")]
        add: Vec<String>,
        /// Append text to a string bin (BIN=TEXT).
        #[arg(long, value_name = "BIN=TEXT")]
        append: Vec<String>,
        /// Remove a bin.
        #[arg(long, value_name = "BIN")]
        remove: Vec<String>,
    },
    /// Start a background delete of the matching records.
    Delete {
        #[command(flatten)]
        job: JobArgs,
        /// Durable delete (Enterprise; a Community server fails every record).
        #[arg(long)]
        durable_delete: bool,
    },
    /// Start a background touch: reset the matching records' expiry.
    Touch {
        #[command(flatten)]
        job: JobArgs,
        /// Expire this long from now (90s, 15m, 12h, 30d).
        #[arg(long, value_name = "DURATION", group = "expiry")]
        expire: Option<String>,
        /// Never expire.
        #[arg(long, group = "expiry")]
        never_expire: bool,
        /// Keep each record's expiry.
        #[arg(long, group = "expiry")]
        keep_expiry: bool,
    },
    /// Start a background Lua UDF on every matching record
    /// (`udf TARGET --module M --function F`), or manage UDF modules
    /// (`udf register FILE`, `udf list`, `udf remove NAME.lua`).
    Udf(UdfArgs),
    /// Show a job's status on every node.
    Status {
        /// The task id.
        id: u64,
    },
    /// Wait until a job finishes; the exit code tells how it ended.
    Wait {
        /// The task id.
        id: u64,
        /// Give up waiting after this long (the job keeps running).
        #[arg(long, value_name = "DURATION")]
        timeout: Option<String>,
        /// Abort the job on Ctrl-C instead of detaching.
        #[arg(long)]
        cancel_on_interrupt: bool,
    },
    /// Watch a job: per-node and total progress bars (lines when not a terminal).
    Watch {
        /// The task id.
        id: u64,
        /// Give up watching after this long (the job keeps running).
        #[arg(long, value_name = "DURATION")]
        timeout: Option<String>,
        /// Abort the job on Ctrl-C instead of detaching.
        #[arg(long)]
        cancel_on_interrupt: bool,
    },
    /// Abort a job on every node.
    Cancel {
        /// The task id.
        id: u64,
    },
    /// List the jobs the cluster's nodes remember, running or finished.
    List,
}

/// `udf`: a UDF job, or a module command.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct UdfArgs {
    #[command(subcommand)]
    modules: Option<Modules>,
    #[command(flatten)]
    job: JobArgs,
    /// The registered module (without `.lua`).
    #[arg(long, required = true)]
    module: Option<String>,
    /// The function.
    #[arg(long, required = true)]
    function: Option<String>,
    /// An argument (repeatable; typed like --set values).
    #[arg(long = "arg", value_name = "VALUE", allow_hyphen_values = true)]
    args: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum Modules {
    /// Register a Lua module from a file and wait until every node has it.
    Register {
        /// The `.lua` file.
        file: String,
    },
    /// List the registered modules.
    List,
    /// Remove a module (`name.lua`) from every node.
    Remove {
        /// The module's file name.
        name: String,
    },
}

/// What every job start takes.
#[derive(Args, Debug)]
struct JobArgs {
    /// NAMESPACE.SET (or NAMESPACE for the whole namespace).
    #[arg(required = true)]
    target: Option<String>,
    /// AEL where-clause: only matching records are changed.
    #[arg(long = "where", value_name = "AEL")]
    where_clause: Option<String>,
    /// Secondary-index filter on equality: BIN=VALUE.
    #[arg(long, value_name = "BIN=VALUE", conflicts_with = "index_range")]
    index_equal: Option<String>,
    /// Secondary-index filter on an integer range: BIN=LOW..HIGH.
    #[arg(long, value_name = "BIN=LOW..HIGH")]
    index_range: Option<String>,
    /// Records per second on each node (0 = no limit).
    #[arg(long, default_value_t = 0)]
    rps: u32,
    /// Run on this node only.
    #[arg(long, value_name = "NODE")]
    node: Option<String>,
    /// Use this task id instead of a random one.
    #[arg(long, value_name = "ID")]
    task_id: Option<u64>,
    /// Budget of the start request (default 1s).
    #[arg(long, value_name = "DURATION")]
    start_timeout: Option<String>,
    /// Wait for the job to finish (with a progress bar on a terminal).
    #[arg(long)]
    wait: bool,
    /// With --wait: give up waiting after this long.
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// With --wait: abort the job on Ctrl-C instead of detaching.
    #[arg(long)]
    cancel_on_interrupt: bool,
}

/// An error to report and the exit code it maps to.
struct Failure {
    code: u8,
    message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = match &e {
            Error::Expression { .. } | Error::InvalidArgument(_) => exit::USAGE,
            Error::NoNode(_) => exit::CANNOT_CONNECT,
            _ => exit::FAILED,
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

fn usage(message: String) -> Failure {
    Failure {
        code: exit::USAGE,
        message,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst)) {
        eprintln!("aerospike-jobs: Ctrl-C cannot be handled ({e}): it will stop the program");
    }
    let show = Show {
        json: cli.json,
        quiet: cli.quiet,
    };
    match run(&cli, show) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            if cli.json {
                println!("{}", json!({ "error": f.message, "exit_code": f.code }));
            } else {
                eprintln!("aerospike-jobs: {}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}

fn connect(hosts: &str) -> Result<Client, Failure> {
    let seeds: Vec<&str> = hosts
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    Client::connect(&seeds, &ClientPolicy::default()).map_err(|e| Failure {
        code: exit::CANNOT_CONNECT,
        message: format!("cannot connect to {hosts}: {e}"),
    })
}

fn parse_duration(text: Option<&String>) -> Result<Option<Duration>, Failure> {
    text.map(|t| values::duration(t)).transpose().map_err(usage)
}

/// Set by Ctrl-C, so that waiting can detach or cancel. The handler is
/// installed before anything is started: a Ctrl-C once a job runs never
/// kills the process with the job unseen.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Applies the options every job builder shares.
macro_rules! with_job_options {
    ($b:expr, $job:expr) => {{
        let job: &JobArgs = $job;
        let mut b = $b.records_per_second(job.rps);
        if let Some(w) = &job.where_clause {
            b = b.where_ael(w);
        }
        if let Some(f) = index_filter(job)? {
            b = b.index_filter(f);
        }
        if let Some(n) = &job.node {
            b = b.on_node(n);
        }
        if let Some(id) = job.task_id {
            b = b.task_id(id);
        }
        if let Some(t) = parse_duration(job.start_timeout.as_ref())? {
            b = b.timeout(t);
        }
        b
    }};
}

fn run(cli: &Cli, show: Show) -> Result<u8, Failure> {
    // Validate job arguments before connecting: bad input never reaches a node.
    match &cli.command {
        Command::Status { id }
        | Command::Cancel { id }
        | Command::Wait { id, .. }
        | Command::Watch { id, .. }
            if *id == 0 =>
        {
            return Err(usage("a task id is never 0".into()));
        }
        _ => {}
    }
    let client = connect(&cli.hosts)?;
    match &cli.command {
        Command::Update {
            job,
            set,
            add,
            append,
            remove,
        } => {
            let mut b = builder(&client, job, |bg, ds| bg.update(ds))?;
            for (flag, items) in [("--set", set), ("--add", add), ("--append", append)] {
                for item in items {
                    let (bin, value) = values::bin_value(item).map_err(usage)?;
                    let bin = b.bin(&bin);
                    b = match flag {
                        "--set" => bin.set_to(value),
                        "--add" => bin.add(value),
                        _ => bin.append(value),
                    };
                }
            }
            for bin in remove {
                b = b.bin(bin).remove();
            }
            start(&client, job, show, b.execute()?)
        }
        Command::Delete {
            job,
            durable_delete,
        } => {
            let b = builder(&client, job, |bg, ds| bg.delete(ds))?.durable_delete(*durable_delete);
            start(&client, job, show, b.execute()?)
        }
        Command::Touch {
            job,
            expire,
            never_expire,
            keep_expiry,
        } => {
            let mut b = builder(&client, job, |bg, ds| bg.touch(ds))?;
            if let Some(d) = expire {
                b = b.expire_record_after(values::duration(d).map_err(usage)?);
            } else if *never_expire {
                b = b.never_expire();
            } else if *keep_expiry {
                b = b.keep_expiry();
            }
            start(&client, job, show, b.execute()?)
        }
        Command::Udf(UdfArgs {
            modules: Some(m), ..
        }) => modules(&client, m, show),
        Command::Udf(UdfArgs {
            job,
            module,
            function,
            args,
            ..
        }) => {
            let module = module
                .as_deref()
                .ok_or_else(|| usage("--module is required".into()))?;
            let function = function
                .as_deref()
                .ok_or_else(|| usage("--function is required".into()))?;
            let (ns, set) =
                values::target(job.target.as_deref().unwrap_or_default()).map_err(usage)?;
            let ds = if set.is_empty() {
                DataSet::namespace_only(&ns)
            } else {
                DataSet::of(&ns, &set)
            };
            let mut b = client
                .session()
                .background_task()
                .execute_udf(&ds)
                .function(module, function);
            for a in args {
                b = b.arg(values::parse_value(a));
            }
            let b = with_job_options!(b, job);
            start(&client, job, show, b.execute()?)
        }
        Command::Status { id } => status(&client, *id, show),
        Command::Wait {
            id,
            timeout,
            cancel_on_interrupt,
        } => follow_job(
            &client,
            *id,
            timeout.as_ref(),
            *cancel_on_interrupt,
            false,
            show,
        ),
        Command::Watch {
            id,
            timeout,
            cancel_on_interrupt,
        } => follow_job(
            &client,
            *id,
            timeout.as_ref(),
            *cancel_on_interrupt,
            true,
            show,
        ),
        Command::Cancel { id } => {
            let task = attach(&client, *id)?;
            task.cancel()?;
            show.result(json!({ "task_id": id, "cancelled": true }), || {
                format!("job {id} cancelled")
            });
            Ok(exit::OK)
        }
        Command::List => list(&client, show),
    }
}

fn builder(
    client: &Client,
    job: &JobArgs,
    make: impl FnOnce(
        &aerospike_blocking::background::BackgroundTaskSession,
        &DataSet,
    ) -> BackgroundOperationBuilder,
) -> Result<BackgroundOperationBuilder, Failure> {
    let (ns, set) = values::target(job.target.as_deref().unwrap_or_default()).map_err(usage)?;
    let ds = if set.is_empty() {
        DataSet::namespace_only(&ns)
    } else {
        DataSet::of(&ns, &set)
    };
    let b = make(&client.session().background_task(), &ds);
    Ok(with_job_options!(b, job))
}

fn index_filter(job: &JobArgs) -> Result<Option<Filter>, Failure> {
    if let Some(eq) = &job.index_equal {
        let (bin, value) = values::bin_value(eq).map_err(usage)?;
        return Ok(Some(Filter::equal(&bin, value)));
    }
    if let Some(range) = &job.index_range {
        let (bin, span) = range
            .split_once('=')
            .ok_or_else(|| usage(format!("expected BIN=LOW..HIGH, got {range:?}")))?;
        let (lo, hi) = span
            .split_once("..")
            .and_then(|(a, b)| Some((a.parse::<i64>().ok()?, b.parse::<i64>().ok()?)))
            .ok_or_else(|| {
                usage(format!(
                    "expected BIN=LOW..HIGH with integers, got {range:?}"
                ))
            })?;
        return Ok(Some(Filter::range(bin, lo, hi)));
    }
    Ok(None)
}

/// Reports a started job and, with `--wait`, follows it to its end.
fn start(client: &Client, job: &JobArgs, show: Show, task: ExecuteTask) -> Result<u8, Failure> {
    let _ = client;
    let id = task.task_id();
    show.result(
        json!({ "task_id": id, "started": true, "nodes": task.nodes() }),
        || {
            format!(
                "started job {id} on {} node(s); re-attach with: aerospike-jobs watch {id}",
                task.nodes().len()
            )
        },
    );
    if !job.wait {
        return Ok(exit::OK);
    }
    let timeout = parse_duration(job.timeout.as_ref())?;
    let ending = follow::follow(
        &task,
        show,
        true,
        timeout,
        &INTERRUPTED,
        job.cancel_on_interrupt,
    )?;
    Ok(finish(&task, ending, show))
}

/// The exit code of an outcome.
fn outcome_code(o: &Outcome) -> u8 {
    match o {
        Outcome::Completed => exit::OK,
        Outcome::AbortedByUser => exit::ABORTED,
        Outcome::Lost { .. } | Outcome::PartitionsMoved { .. } => exit::LOST_NODE,
        _ => exit::FAILED,
    }
}

/// Prints how following ended and returns the exit code.
fn finish(task: &ExecuteTask, ending: Ending, show: Show) -> u8 {
    let id = task.task_id();
    let ending_outcome = match &ending {
        Ending::Done(o, _) => Some(o.clone()),
        _ => None,
    };
    let (code, word, text, progress) = match ending {
        Ending::Done(outcome, p) => {
            let code = outcome_code(&outcome);
            let word = match &outcome {
                Outcome::Completed => "completed",
                Outcome::AbortedByUser => "aborted",
                Outcome::Lost { .. } => "lost_node",
                Outcome::PartitionsMoved { .. } => "partitions_moved",
                _ => "failed",
            };
            (code, word, format!("job {id}: {outcome}"), p)
        }
        Ending::TimedOut(p) => (
            exit::TIMED_OUT,
            "timed_out",
            format!("job {id} still running ({:.1}%); re-attach with: aerospike-jobs watch {id}", p.percent),
            p,
        ),
        Ending::Detached(p) => (
            exit::DETACHED,
            "detached",
            format!("detached from job {id} ({:.1}%), still running; re-attach with: aerospike-jobs watch {id}", p.percent),
            p,
        ),
    };
    show.result(
        json!({
            "task_id": id,
            "outcome": word,
            "exit_code": code,
            "succeeded": progress.succeeded,
            "failed": progress.failed,
            "percent": progress.percent,
            "nodes": follow::nodes_json(&progress),
            // A lost node's share: the partitions it mastered at the start.
            "uncovered_partitions": match &ending_outcome {
                Some(Outcome::Lost { partitions, .. } | Outcome::PartitionsMoved { partitions }) => {
                    Some(partitions.clone())
                }
                _ => None,
            },
        }),
        || text,
    );
    code
}

/// `wait` (`live` false) and `watch` (`live` true): follows job `id` to its end.
fn follow_job(
    client: &Client,
    id: u64,
    timeout: Option<&String>,
    cancel_on_interrupt: bool,
    live: bool,
    show: Show,
) -> Result<u8, Failure> {
    let task = attach(client, id)?;
    let timeout = parse_duration(timeout)?;
    let ending = follow::follow(
        &task,
        show,
        live,
        timeout,
        &INTERRUPTED,
        cancel_on_interrupt,
    )?;
    Ok(finish(&task, ending, show))
}

/// The handle of job `id`, found on the nodes that remember it.
fn attach(client: &Client, id: u64) -> Result<ExecuteTask, Failure> {
    let rows = client.list_jobs()?;
    let (_, info) = rows
        .iter()
        .find(|(_, j)| j.task_id == id)
        .ok_or_else(|| Failure {
            code: exit::FAILED,
            message: format!("job {id} is not known to any node"),
        })?;
    Ok(ExecuteTask::attach(
        client,
        id,
        &info.namespace,
        &info.set,
        TaskKind::QueryExecute,
    ))
}

fn status(client: &Client, id: u64, show: Show) -> Result<u8, Failure> {
    let rows: Vec<_> = client
        .list_jobs()?
        .into_iter()
        .filter(|(_, j)| j.task_id == id)
        .collect();
    if rows.is_empty() {
        return Err(Failure {
            code: exit::FAILED,
            message: format!("job {id} is not known to any node"),
        });
    }
    let nodes: Vec<_> = rows
        .iter()
        .map(|(node, j)| {
            json!({
                "node": node, "namespace": j.namespace, "set": j.set, "status": j.status,
                "percent": j.progress_percent, "run_time_ms": j.run_time.as_millis() as u64,
            })
        })
        .collect();
    show.result(json!({ "task_id": id, "nodes": nodes }), || {
        rows.iter()
            .map(|(node, j)| {
                format!(
                    "{node}  {}.{}  {}  {:.1}%",
                    j.namespace, j.set, j.status, j.progress_percent
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(exit::OK)
}

fn list(client: &Client, show: Show) -> Result<u8, Failure> {
    let rows = client.list_jobs()?;
    if show.json {
        for (node, j) in &rows {
            println!(
                "{}",
                json!({
                    "task_id": j.task_id, "node": node, "namespace": j.namespace, "set": j.set,
                    "status": j.status, "percent": j.progress_percent,
                    "records_throttled": j.recs_throttled,
                })
            );
        }
    } else if !show.quiet {
        println!(
            "{:<22} {:<16} {:<24} {:<22} {:>8}",
            "ID", "NODE", "SET", "STATUS", "PROGRESS"
        );
        for (node, j) in &rows {
            let set = if j.set.is_empty() {
                j.namespace.clone()
            } else {
                format!("{}.{}", j.namespace, j.set)
            };
            println!(
                "{:<22} {:<16} {:<24} {:<22} {:>7.1}%",
                j.task_id, node, set, j.status, j.progress_percent
            );
        }
    }
    Ok(exit::OK)
}

fn modules(client: &Client, m: &Modules, show: Show) -> Result<u8, Failure> {
    match m {
        Modules::Register { file } => {
            client.register_udf(file)?;
            show.result(json!({ "registered": file }), || {
                format!("registered {file}")
            });
        }
        Modules::List => {
            let list = client.list_udfs()?;
            let rows: Vec<_> = list
                .iter()
                .map(|u| json!({ "name": u.name, "hash": u.hash }))
                .collect();
            show.result(json!({ "modules": rows }), || {
                list.iter()
                    .map(|u| format!("{}  {}", u.name, u.hash))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        Modules::Remove { name } => {
            client.remove_udf(name)?;
            show.result(json!({ "removed": name }), || format!("removed {name}"));
        }
    }
    Ok(exit::OK)
}
