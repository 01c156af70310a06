//! The load bench's measurements and its table: percentiles, memory per phase, ratios.

use std::fmt;
use std::time::Duration;

/// Who makes the calls in a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The generated `seed::order_status` through `apicall_runtime::Client`.
    Apicall,
    /// The same request and extraction written by hand with reqwest and serde.
    ByHand,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Apicall => "apicall",
            Side::ByHand => "hand-written",
        })
    }
}

/// A field of `/proc/self/status` in KiB (`VmHWM`, `VmRSS`), if there is one.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line[field.len()..]
        .trim_start_matches(':')
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Resets the peak resident set (`VmHWM`) to the current one; false where Linux refuses.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Memory measured around a phase, in KiB.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// Whether the peak was reset when the phase started (else it is the process's since start).
    pub reset: bool,
    /// The resident set when the phase started.
    pub start: u64,
    /// The peak resident set during the phase (`VmHWM`).
    pub peak: u64,
    /// The resident set when the phase ended.
    pub end: u64,
}

impl Memory {
    /// Whether this process can reset its peak resident set.
    pub fn can_reset() -> bool {
        reset_peak()
    }

    /// Resets the peak and notes the resident set; call [`Memory::finish`] after the phase.
    pub fn start() -> Self {
        let reset = reset_peak();
        let start = status_kib("VmRSS").unwrap_or(0);
        Self {
            reset,
            start,
            peak: start,
            end: start,
        }
    }

    pub fn finish(self) -> Self {
        Self {
            peak: status_kib("VmHWM").unwrap_or(0),
            end: status_kib("VmRSS").unwrap_or(0),
            ..self
        }
    }

    /// What the phase added: the peak over the start when the peak was reset, else the end
    /// over the start (RSS growth).
    pub fn growth(&self) -> u64 {
        if self.reset {
            self.peak.saturating_sub(self.start)
        } else {
            self.end.saturating_sub(self.start)
        }
    }
}

/// CPU time the process's threads spent, in nanoseconds, split by runtime: threads named
/// `load-server` are the server's, the others (the client runtime's and the main thread) the
/// client's. From `/proc/self/task/*/schedstat`; zero where that is missing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    pub client: u64,
    pub server: u64,
}

impl Cpu {
    pub fn now() -> Self {
        let mut cpu = Self::default();
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return cpu;
        };
        for task in tasks.flatten() {
            let path = task.path();
            let ran = std::fs::read_to_string(path.join("schedstat"))
                .ok()
                .and_then(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0);
            let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
            if name.starts_with("load-server") {
                cpu.server += ran;
            } else {
                cpu.client += ran;
            }
        }
        cpu
    }

    /// The CPU time spent since `earlier`.
    #[must_use]
    pub fn since(self, earlier: Self) -> Self {
        Self {
            client: self.client.saturating_sub(earlier.client),
            server: self.server.saturating_sub(earlier.server),
        }
    }
}

/// One round's results.
pub struct Round {
    pub side: Side,
    pub elapsed: Duration,
    /// Latencies of the calls that succeeded.
    pub latencies: Vec<Duration>,
    /// Latencies of the first calls started, one per worker (`concurrency` of them): in a
    /// cold round, those that open the pool's connections.
    pub first_wave: Vec<Duration>,
    pub errors: usize,
    /// Connections the server accepted during the round.
    pub connections: usize,
    pub memory: Memory,
    /// CPU time spent during the round.
    pub cpu: Cpu,
}

/// Latency percentiles of some calls.
#[derive(Clone, Copy, Default)]
struct Latency {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

impl Latency {
    fn of(latencies: impl IntoIterator<Item = Duration>) -> Self {
        let mut sorted: Vec<Duration> = latencies.into_iter().collect();
        sorted.sort_unstable();
        // Nearest rank: the smallest latency at least `q` of the calls did not exceed.
        let at = |q: f64| {
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let rank = (q * sorted.len() as f64).ceil() as usize;
            sorted
                .get(rank.saturating_sub(1).min(sorted.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        Self {
            p50: at(0.50),
            p99: at(0.99),
            max: sorted.last().copied().unwrap_or_default(),
        }
    }
}

/// One side's measured rounds, taken together.
struct Totals {
    latency: Latency,
    calls_per_second: f64,
    peak_mib: f64,
    growth_mib: f64,
    connections: usize,
    errors: usize,
    /// CPU microseconds per call, client and server threads.
    client_cpu_us: f64,
    server_cpu_us: f64,
}

impl Totals {
    fn of<'a>(rounds: impl Iterator<Item = &'a Round> + Clone) -> Self {
        let calls: usize = rounds.clone().map(|round| round.latencies.len()).sum();
        let time: Duration = rounds.clone().map(|round| round.elapsed).sum();
        let max_kib = |pick: fn(&Memory) -> u64| {
            rounds
                .clone()
                .map(|round| pick(&round.memory))
                .max()
                .unwrap_or(0)
        };
        Self {
            latency: Latency::of(
                rounds
                    .clone()
                    .flat_map(|round| round.latencies.iter().copied()),
            ),
            calls_per_second: per_second(calls, time),
            peak_mib: mib(max_kib(|memory| memory.peak)),
            growth_mib: mib(max_kib(Memory::growth)),
            connections: rounds.clone().map(|round| round.connections).sum(),
            errors: rounds.clone().map(|round| round.errors).sum(),
            client_cpu_us: cpu_us(rounds.clone().map(|round| round.cpu.client).sum(), calls),
            server_cpu_us: cpu_us(rounds.map(|round| round.cpu.server).sum(), calls),
        }
    }
}

#[allow(clippy::cast_precision_loss)]
fn per_second(calls: usize, time: Duration) -> f64 {
    calls as f64 / time.as_secs_f64().max(f64::MIN_POSITIVE)
}

#[allow(clippy::cast_precision_loss)]
fn cpu_us(nanoseconds: u64, calls: usize) -> f64 {
    nanoseconds as f64 / 1000.0 / calls.max(1) as f64
}

#[allow(clippy::cast_precision_loss)]
fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Everything the run measured.
pub struct Summary {
    pub setup: String,
    /// Whether `/proc/self/clear_refs` resets the peak.
    pub memory_resets: bool,
    /// Sizes in bytes of the apicall and hand-written call futures.
    pub future_sizes: (usize, usize),
    /// Each side's first (cold pool) round, not in the totals.
    pub warm_ups: Vec<Round>,
    /// The measured rounds, in the order they ran.
    pub rounds: Vec<Round>,
}

impl Summary {
    pub fn errors(&self) -> usize {
        self.warm_ups
            .iter()
            .chain(&self.rounds)
            .map(|round| round.errors)
            .sum()
    }

    pub fn print(&self) {
        let side = |side: Side| Totals::of(self.rounds.iter().filter(move |r| r.side == side));
        let (a, h) = (side(Side::Apicall), side(Side::ByHand));
        let ratio = |a: f64, h: f64| {
            if h > 0.0 {
                format!("{:.2}x", a / h)
            } else {
                "-".to_owned()
            }
        };
        let row = |name: &str, a: f64, h: f64, digits: usize| {
            println!(
                "  {name:<30} {a:>12.digits$} {h:>14.digits$} {:>12}",
                ratio(a, h)
            );
        };
        #[allow(clippy::cast_precision_loss)]
        let count = |n: usize| n as f64;

        println!();
        println!("load: {}", self.setup);
        if self.memory_resets {
            println!(
                "memory: peak RSS reset before each phase (/proc/self/clear_refs), VmHWM read after it"
            );
        } else {
            println!(
                "memory: /proc/self/clear_refs is not writable here: the peak is the process's since \
                 it started, and growth is RSS growth over the phase"
            );
        }
        println!(
            "  {:<30} {:>12} {:>14} {:>12}",
            "", "apicall", "hand-written", "apicall/hand"
        );
        row("p50 latency (ms)", ms(a.latency.p50), ms(h.latency.p50), 2);
        row("p99 latency (ms)", ms(a.latency.p99), ms(h.latency.p99), 2);
        row("max latency (ms)", ms(a.latency.max), ms(h.latency.max), 2);
        row(
            "throughput (calls/s)",
            a.calls_per_second,
            h.calls_per_second,
            0,
        );
        row(
            "client CPU per call (us)",
            a.client_cpu_us,
            h.client_cpu_us,
            1,
        );
        row(
            "server CPU per call (us)",
            a.server_cpu_us,
            h.server_cpu_us,
            1,
        );
        row("peak RSS in a phase (MiB)", a.peak_mib, h.peak_mib, 1);
        let growth = if self.memory_resets {
            "peak over phase start (MiB)"
        } else {
            "RSS growth in a phase (MiB)"
        };
        row(growth, a.growth_mib, h.growth_mib, 1);
        row(
            "connections opened",
            count(a.connections),
            count(h.connections),
            0,
        );
        row(
            "call future (bytes)",
            count(self.future_sizes.0),
            count(self.future_sizes.1),
            0,
        );
        row("errors", count(a.errors), count(h.errors), 0);
        let p99 = ms(a.latency.p99) / ms(h.latency.p99).max(f64::MIN_POSITIVE);
        println!(
            "goal apicall p99 <= 1.05x hand-written: {p99:.2}x, {}",
            if p99 <= 1.05 { "met" } else { "NOT met" }
        );

        for round in &self.warm_ups {
            let first = Latency::of(round.first_wave.iter().copied());
            let all = Latency::of(round.latencies.iter().copied());
            println!(
                "warm-up {}: its first {} calls (opening connections) p50 {:.2} / max {:.2} ms; \
                 all {} calls p99 {:.2} ms",
                round.side,
                round.first_wave.len(),
                ms(first.p50),
                ms(first.max),
                round.latencies.len(),
                ms(all.p99),
            );
        }
        println!(
            "rounds (p50 / p99 / max ms, calls/s, client / server CPU us per call, peak MiB, connections):"
        );
        for (label, rounds) in [("warm-up", &self.warm_ups), ("measured", &self.rounds)] {
            for round in rounds {
                let latency = Latency::of(round.latencies.iter().copied());
                println!(
                    "  {label:<8} {:<12} {:>7.2} / {:>7.2} / {:>7.2}  {:>7.0}  {:>6.1} / {:>5.1}  {:>6.1}  {:>4}",
                    round.side.to_string(),
                    ms(latency.p50),
                    ms(latency.p99),
                    ms(latency.max),
                    per_second(round.latencies.len(), round.elapsed),
                    cpu_us(round.cpu.client, round.latencies.len()),
                    cpu_us(round.cpu.server, round.latencies.len()),
                    mib(round.memory.peak),
                    round.connections,
                );
            }
        }
    }
}
