//! The `watchband` binary as a child process against an endpoint (moto, or a stand-in in
//! front of it): the command with test credentials and a home of its own, a running one whose
//! stderr is collected as it comes (a test waits for a line while it runs), and how many
//! messages an SQS queue holds (what a processor has yet to take).

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `watchband --endpoint-url ENDPOINT ARGS...` with test credentials and `home` for every
/// directory it could use, so no configuration of the developer's is read.
pub fn watchband(endpoint: &str, home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_watchband"));
    c.args(["--endpoint-url", endpoint])
        .args(args)
        .env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", home.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("aws-credentials"))
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"));
    c
}

/// A running `watchband` (a processor, until it is signalled): stdout is read at its exit,
/// stderr as it comes. Dropping it kills it (SIGKILL).
pub struct Processor {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

impl Processor {
    /// Starts `watchband(endpoint, home, args)` with stdin closed.
    pub fn start(endpoint: &str, home: &Path, args: &[&str]) -> Processor {
        let mut child = watchband(endpoint, home, args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start watchband {args:?}: {e}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Processor {
            child,
            stderr,
            reader: Some(reader),
        }
    }

    /// What it has written to stderr so far (all of it after [`Processor::wait`]).
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (polling, without blocking the runtime) until stderr holds `needle`, and returns
    /// the first line that does; panics with `what` and stderr after `within`.
    pub async fn wait_for(&self, needle: &str, what: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let stderr = self.stderr();
            if let Some(line) = stderr.lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "{what} after {within:?}: {stderr}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends it a signal by name (`TERM`, `INT`).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name}");
    }

    /// Waits up to 30 s for the exit (after a signal): its code and stdout. The stderr reader
    /// is joined first, so [`Processor::stderr`] then holds the last lines too.
    pub fn wait(&mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                let mut out = String::new();
                if let Some(mut stdout) = self.child.stdout.take() {
                    stdout.read_to_string(&mut out).unwrap();
                }
                return (status.code(), out);
            }
            assert!(
                Instant::now() < deadline,
                "no exit 30 s after the signal; stderr: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Processor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The messages of an SQS queue, visible or in flight: those not yet deleted by a consumer.
pub async fn queue_count(config: &aws_config::SdkConfig, queue: &str) -> usize {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let out = aws_sdk_sqs::Client::new(config)
        .get_queue_attributes()
        .queue_url(queue)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    let attrs = out.attributes().cloned().unwrap_or_default();
    [
        A::ApproximateNumberOfMessages,
        A::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .map(|k| {
        attrs
            .get(k)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0)
    })
    .sum()
}
