//! A throwaway Redis server for one test: `redis-server` on a free port of 127.0.0.1, with no
//! persistence, stopped when the guard is dropped.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// A running `redis-server`.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    /// `redis://127.0.0.1:PORT`.
    pub url: String,
    port: u16,
}

impl RedisServer {
    /// Starts a server (a few attempts: a free port may be taken before the server binds it).
    pub fn start() -> anyhow::Result<RedisServer> {
        let mut last_error = None;
        for _ in 0..3 {
            match RedisServer::start_once() {
                Ok(server) => return Ok(server),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("redis-server did not start")))
    }

    fn start_once() -> anyhow::Result<RedisServer> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("redis-server is not installed (apt-get install redis-server)")?;
        let mut server = RedisServer {
            child,
            url: format!("redis://127.0.0.1:{port}"),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if server
                .command("PING")
                .is_ok_and(|reply| reply.starts_with("+PONG"))
            {
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                anyhow::bail!("redis-server exited: {status}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        anyhow::bail!("redis-server did not answer PING")
    }

    /// Sends one inline command and returns the raw reply.
    pub fn command(&self, command: &str) -> anyhow::Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.write_all(format!("{command}\r\n").as_bytes())?;
        let mut reply = [0u8; 512];
        let read = stream.read(&mut reply)?;
        Ok(String::from_utf8_lossy(reply.get(..read).unwrap_or_default()).into_owned())
    }
}

impl RedisServer {
    /// Stops the server now (an outage, in the middle of a test).
    pub fn stop(&mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
