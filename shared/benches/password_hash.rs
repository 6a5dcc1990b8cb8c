//! `cargo bench -p shared --bench password_hash`: the cost of the argon2id parameters on this
//! machine (hash a new password; verify a login, known user and unknown user).
//! Plain timing loop, no benchmark framework: each figure is the median of `RUNS` runs.

use std::time::{Duration, Instant};

use shared::{auth::PasswordHasher, domain::Password};

const RUNS: usize = 41;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(mut f: impl FnMut()) -> Duration {
    f(); // warm-up
    median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let password = Password::parse("correct horse battery staple").expect("valid");
    let stored = PasswordHasher::hash_blocking(&password).expect("hash");
    let params = PasswordHasher::params();
    println!(
        "argon2id m={} KiB t={} p={}, median of {RUNS} runs, one thread",
        params.m_cost(),
        params.t_cost(),
        params.p_cost()
    );
    let hash = time(|| {
        PasswordHasher::hash_blocking(&password).expect("hash");
    });
    let verify = time(|| {
        assert!(PasswordHasher::verify_blocking(password.expose(), Some(&stored)));
    });
    let unknown = time(|| {
        assert!(!PasswordHasher::verify_blocking(password.expose(), None));
    });
    println!("hash (register):           {:>7.2} ms", hash.as_secs_f64() * 1e3);
    println!("verify (login, known):     {:>7.2} ms", verify.as_secs_f64() * 1e3);
    println!("verify (login, unknown):   {:>7.2} ms", unknown.as_secs_f64() * 1e3);
}
