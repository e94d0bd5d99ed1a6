// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//! Two threads take two std::sync::Mutexes in opposite orders, a barrier
//! between the first and the second: Rust's mutex is a word of 0, 1 or 2
//! that names no owner.
//!
//! usage: rust_locks [ordered]
//! With "ordered" both threads take them in the same order, many times,
//! without the barrier: contention, never a hang.
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

const ORDERED_ROUNDS: usize = 20000;

fn say(state: &str) {
    println!("{} {}", state, std::process::id());
}

fn take(first: &Mutex<u64>, second: &Mutex<u64>, barrier: Option<&Barrier>, rounds: usize) {
    for _ in 0..rounds {
        let mut held = first.lock().unwrap();
        if let Some(barrier) = barrier {
            barrier.wait();
        }
        *second.lock().unwrap() += 1;
        *held += 1;
    }
}

fn main() {
    let ordered = std::env::args().nth(1).as_deref() == Some("ordered");
    let a = Arc::new(Mutex::new(0u64));
    let b = Arc::new(Mutex::new(0u64));
    let barrier = Arc::new(Barrier::new(2));
    let rounds = if ordered { ORDERED_ROUNDS } else { 1 };
    say("started");
    let other = {
        let (a, b, barrier) = (a.clone(), b.clone(), barrier.clone());
        thread::spawn(move || {
            let (first, second) = if ordered { (&a, &b) } else { (&b, &a) };
            take(first, second, if ordered { None } else { Some(&barrier) }, rounds);
            // Joined late: the join blocks in the kernel for certain.
            thread::sleep(std::time::Duration::from_millis(50));
        })
    };
    if !ordered {
        say("blocking");
    }
    take(&a, &b, if ordered { None } else { Some(&barrier) }, rounds);
    other.join().unwrap();
    say("done");
}
