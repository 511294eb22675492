//! The worker side: `modelwatch __contained-parser KIND CPU_SECS MEMORY STACK`
//! reads the input on stdin and writes one JSON answer on stdout. It limits
//! itself before it reads a byte, so whatever the input does, it does it to
//! this process alone.

use std::io::{Read, Write};
use std::process::ExitCode;

use rlimit::Resource;

use super::Parser;
use crate::sources::pdf;

/// The hidden first argument that turns the binary into a parser worker.
pub const WORKER_ARG: &str = "__contained-parser";

/// Largest input a worker reads: well past any body cap, short of a
/// runaway pipe.
const MAX_INPUT: u64 = 256 << 20;

/// Runs the worker when `args` (without the program name) ask for it;
/// `None` means "not a worker invocation, carry on as the CLI".
pub fn worker_main(args: &[String]) -> Option<ExitCode> {
    if args.first().map(String::as_str) != Some(WORKER_ARG) {
        return None;
    }
    Some(match serve(&args[1..]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    })
}

fn serve(args: &[String]) -> Result<(), String> {
    let [kind, cpu, memory, stack] = args else {
        return Err(format!("usage: modelwatch {WORKER_ARG} KIND CPU_SECS MEMORY_BYTES STACK_BYTES"));
    };
    let parser = Parser::from_arg(kind).ok_or_else(|| format!("unknown parser {kind:?}"))?;
    let number = |s: &str| s.parse::<u64>().map_err(|e| format!("bad limit {s:?}: {e}"));
    let (cpu, memory, stack) = (number(cpu)?, number(memory)?, number(stack)?);
    // The soft CPU limit sends SIGXCPU (default action: terminate); the
    // hard one a second later is SIGKILL, for a worker that ignores it.
    rlimit::setrlimit(Resource::CPU, cpu, cpu + 1).map_err(|e| format!("cannot limit CPU time: {e}"))?;
    rlimit::setrlimit(Resource::AS, memory, memory).map_err(|e| format!("cannot limit memory: {e}"))?;
    // A crashing parser must not leave core files of hostile input behind.
    rlimit::setrlimit(Resource::CORE, 0, 0).map_err(|e| format!("cannot disable core dumps: {e}"))?;
    let mut input = Vec::new();
    std::io::stdin().take(MAX_INPUT).read_to_end(&mut input).map_err(|e| format!("cannot read the input: {e}"))?;
    let worker = std::thread::Builder::new()
        .name("contained-parser".to_owned())
        .stack_size(usize::try_from(stack).unwrap_or(usize::MAX))
        .spawn(move || parse(parser, &input))
        .map_err(|e| format!("cannot start the parser thread: {e}"))?;
    let answer = worker.join().map_err(|_| "the parser panicked".to_owned())?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &answer).map_err(|e| format!("cannot write the answer: {e}"))?;
    out.flush().map_err(|e| format!("cannot write the answer: {e}"))
}

/// The parse itself: `{"ok": …}` or `{"err": …}` in the parser's own terms.
pub(super) fn parse(parser: Parser, input: &[u8]) -> serde_json::Value {
    match parser {
        Parser::Pdf => match pdf::parse_in_process(input) {
            Ok(s) => serde_json::json!({ "ok": { "text": s.text, "meta": s.meta, "title": s.title } }),
            Err(e) => serde_json::json!({ "err": e }),
        },
    }
}
