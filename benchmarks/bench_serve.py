"""`lstm-nlp serve` under load: latency and tokens/s at 1, 8 and 64 concurrent clients, beside `lstm-nlp predict`.

    python benchmarks/bench_serve.py --model runs/pos/model                # data/pos/dev.conllu, or EWT dev
    python benchmarks/bench_serve.py --model runs/pos/model --output serve.md
    python benchmarks/bench_serve.py --smoke                               # seconds: a tiny untrained bundle

The sentences are the token lists of a CoNLL-U file: ``--input``, else UD English-EWT dev
(``$LSTM_NLP_DATA/ud_english_ewt/en_ewt-ud-dev.conllu``) when ``$LSTM_NLP_DATA`` is set, else the
bundled sample ``data/pos/dev.conllu``. The service runs as its own process on 127.0.0.1 (``--threads``
torch threads); each client sends one sentence a request (``{"tokens": [[...]]}``) over a keep-alive
HTTP/1.1 connection and sends the next as soon as the answer is read, cycling through the sentences,
until ``--max-requests`` requests or ``--max-seconds`` seconds per level. Tokens/s counts the tokens
of the answered sentences over the level's wall time; "vs predict" divides it by the tokens/s of
``lstm-nlp predict --input-format tokens --output-format jsonl`` on the same sentences, the same
threads and the same machine in the same run (its start-up, measured on a one-line input, taken
out; predict reads the sentences ``--predict-repeat`` times so that its work outweighs that start-up).
The mean batch is what the service's /metrics counted over the level. The clients run in this
process, on the same machine as the service: raw asyncio streams (on uvloop when installed), each
request encoded once beforehand, no HTTP library. Then one client sends the sentences of exactly
``--latency-tokens`` tokens (20) for the latency of that length, and 8 clients send
``--memory-requests`` (N) then 9 N more requests while the service's VmRSS is read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = REPO_ROOT / "data" / "pos" / "dev.conllu"
EWT_DEV = Path("ud_english_ewt") / "en_ewt-ud-dev.conllu"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="tagger bundle to serve (required unless --smoke)")
    parser.add_argument("--input", help="CoNLL-U file of the sentences (default: EWT dev with $LSTM_NLP_DATA, "
                                        "else data/pos/dev.conllu)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 64], help="concurrent clients per level")
    parser.add_argument("--max-requests", type=int, default=3000, help="requests per level at most")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="seconds per level at most")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the service and of predict")
    parser.add_argument("--max-wait-ms", type=float, default=5.0, help="the service's --max-wait-ms")
    parser.add_argument("--max-batch-tokens", type=int, default=4096, help="the service's --max-batch-tokens")
    parser.add_argument("--predict-repeat", type=int, default=4, help="predict reads the sentences this many times "
                                                                     "(its work then outweighs its start-up)")
    parser.add_argument("--latency-tokens", type=int, default=20, help="sentence length of the single-client "
                                                                         "latency measurement")
    parser.add_argument("--latency-requests", type=int, default=500, help="requests of that measurement at most")
    parser.add_argument("--memory-requests", type=int, default=1000, help="N: the service's RSS is read after N "
                                                                          "and after 10 N requests (8 clients)")
    parser.add_argument("--memory-seconds", type=float, default=120.0, help="seconds per memory step at most")
    parser.add_argument("--output", help="also write the markdown tables here")
    parser.add_argument("--smoke", action="store_true", help="a few seconds: the bundled sample, a tiny untrained "
                                                             "bundle, few requests (checks the code path)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.max_requests, args.max_seconds = min(args.max_requests, 40), min(args.max_seconds, 5.0)
        args.predict_repeat = 1
        args.latency_requests, args.memory_requests = min(args.latency_requests, 20), min(args.memory_requests, 10)
        args.memory_seconds = min(args.memory_seconds, 5.0)
    elif not args.model:
        parser.error("--model is required (or --smoke)")
    return args


def input_file(args: argparse.Namespace) -> Path:
    if args.input:
        return Path(args.input)
    data = os.environ.get("LSTM_NLP_DATA")
    if data and not args.smoke and (Path(data) / EWT_DEV).is_file():
        return Path(data) / EWT_DEV
    return SAMPLE


def read_sentences(path: Path) -> list[list[str]]:
    from lstm_nlp.data.conll_blocks import read_blocks

    with open(path, encoding="utf-8") as lines:
        blocks = read_blocks((line.rstrip("\n") for line in lines), kind="conllu", source=str(path))
        return [block.tokens for block in blocks if block.tokens]


def tiny_bundle(sentences: list[list[str]], directory: Path) -> Path:
    """An untrained small POS tagger (the smoke run's model: its figures mean nothing)."""
    from lstm_nlp.data import Vocab
    from lstm_nlp.models import SequenceTagger, TaggerConfig
    from lstm_nlp.pipelines import TaggingPipeline

    words = Vocab.build(sentences)
    labels = Vocab.build_labels([["NOUN", "VERB", "DET", "PUNCT"]])
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=16, hidden_size=16,
                          num_layers=1)
    TaggingPipeline(SequenceTagger(config), words, labels).save_pretrained(directory)
    return directory


def lstm_nlp_command() -> list[str]:
    return [sys.executable, "-m", "lstm_nlp"]


# ---------------------------------------------------------------------- lstm-nlp predict
def predict_tokens_per_second(model: Path, sentences: list[list[str]], threads: int, workdir: Path,
                              runs: int = 2, repeat: int = 1) -> dict:
    """Tokens/s of ``lstm-nlp predict`` on ``sentences`` written ``repeat`` times (start-up, timed on one line,
    taken out: the repeats make the work outweigh the start-up, whose timing is noisy)."""
    full, one = workdir / "tokens.txt", workdir / "one.txt"
    full.write_text("".join(" ".join(s) + "\n" for s in sentences) * repeat, encoding="utf-8")
    one.write_text(" ".join(sentences[0]) + "\n", encoding="utf-8")

    def timed(path: Path) -> float:
        command = [*lstm_nlp_command(), "predict", "--model", str(model), "--input", str(path), "--input-format",
                   "tokens", "--output-format", "jsonl", "--threads", str(threads)]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return time.perf_counter() - start

    if runs > 1:
        timed(one)  # warm the file cache
    startup = min(timed(one) for _ in range(runs))
    total = min(timed(full) for _ in range(runs))
    tokens = repeat * sum(map(len, sentences))
    work = max(total - startup, 1e-6)
    return {"seconds": total, "startup_s": startup, "tokens": tokens, "tokens_per_s": tokens / work}


# ---------------------------------------------------------------------- the service
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(args: argparse.Namespace, model: Path, port: int, log: Path) -> subprocess.Popen:
    command = [*lstm_nlp_command(), "serve", "--model", str(model), "--port", str(port), "--threads",
               str(args.threads), "--max-wait-ms", str(args.max_wait_ms), "--max-batch-tokens",
               str(args.max_batch_tokens), "--max-queue", "4096", "--log-level", "warning"]
    with open(log, "wb") as stream:  # a file, not a pipe: a pipe nobody reads would block the service when full
        process = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"lstm-nlp serve exited with {process.returncode}: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("lstm-nlp serve did not become healthy within 120 s")


def batch_counters(port: int) -> tuple[float, float]:
    """(model batches, texts in them) so far, from the service's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    values = dict(re.findall(r"^(lstm_nlp_batch_texts_(?:count|sum)) (\S+)$", text, re.M))
    return float(values.get("lstm_nlp_batch_texts_count", 0)), float(values.get("lstm_nlp_batch_texts_sum", 0))


_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.I)
_CLOSE = re.compile(rb"\r\nconnection: *close", re.I)


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs pre-encoded requests and reads the status and body.

    Raw asyncio streams and a request encoded once per sentence: the client shares the machine with
    the service, so it does as little per request as it can (no HTTP library).
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Sends a whole request (see :func:`encode_post`); returns the answer's status and body."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = _LENGTH.search(head)
        payload = await self.reader.readexactly(int(length.group(1))) if length else b""
        if _CLOSE.search(head):
            await self.close()
        return int(head[9:12]), payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def encode_post(port: int, path: str, body: bytes) -> bytes:
    """The bytes of a POST of the JSON ``body``."""
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def predict_requests(port: int, sentences: list[list[str]]) -> list[bytes]:
    """One pre-encoded ``POST /v1/predict`` of ``{"tokens": [sentence]}`` per sentence."""
    return [encode_post(port, "/v1/predict", json.dumps({"tokens": [s]}).encode()) for s in sentences]


def run_async(coroutine: Any) -> Any:
    """``asyncio.run``, on uvloop when it is installed (a cheaper client)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


async def load_level(requests: list[bytes], tokens: list[int], concurrency: int, max_requests: int,
                     max_seconds: float, port: int) -> dict:
    """``concurrency`` clients sending requests back to back, until the request or time bound."""
    latencies: list[float] = []
    answered_tokens = errors = 0
    next_index = 0
    start = time.perf_counter()
    stop_at = start + max_seconds

    async def client() -> None:
        nonlocal next_index, answered_tokens, errors
        connection = Connection(port)
        try:
            while next_index < max_requests and time.perf_counter() < stop_at:
                index = next_index % len(requests)
                next_index += 1
                sent = time.perf_counter()
                status, _ = await connection.send(requests[index])
                latencies.append(time.perf_counter() - sent)
                if status == 200:
                    answered_tokens += tokens[index]
                else:
                    errors += 1
        finally:
            await connection.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    wall = time.perf_counter() - start
    latencies.sort()
    return {"concurrency": concurrency, "requests": len(latencies), "errors": errors, "seconds": wall,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
            "requests_per_s": len(latencies) / wall, "tokens_per_s": answered_tokens / wall}


def rss_mib(pid: int) -> float:
    """The resident memory of process ``pid`` (``VmRSS`` of ``/proc/PID/status``), in MiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


# ---------------------------------------------------------------------- report
def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def portable(path: Path) -> str:
    """``path`` as the report shows it: relative to the repository, or under ``$LSTM_NLP_DATA``."""
    data = os.environ.get("LSTM_NLP_DATA")
    for root, name in ((REPO_ROOT, ""), (Path(data) if data else None, "$LSTM_NLP_DATA/")):
        if root is not None:
            try:
                return name + str(path.resolve().relative_to(Path(root).resolve()))
            except ValueError:
                pass
    return path.name


def report(args: argparse.Namespace, source: Path, sentences: list[list[str]], predict: dict,
           results: dict) -> str:
    import torch

    tokens = sum(map(len, sentences))
    lines = [f"Machine: {machine()}; torch {torch.__version__}; service and predict with --threads {args.threads} "
             f"(the clients share the machine). Input: {portable(source)}, {len(sentences):,} sentences, "
             f"{tokens:,} tokens, one sentence a request; service --max-wait-ms {args.max_wait_ms:g} "
             f"--max-batch-tokens {args.max_batch_tokens}; at most {args.max_requests:,} requests or "
             f"{args.max_seconds:g} s per level." + (" Smoke run: the figures mean nothing." if args.smoke else ""),
             "",
             f"`lstm-nlp predict --input-format tokens --output-format jsonl`: {predict['tokens_per_s']:,.0f} tokens/s "
             f"({predict['seconds']:.2f} s for the {predict['tokens']:,} tokens of the sentences read {args.predict_repeat} "
             f"time(s), {predict['startup_s']:.2f} s of it start-up).",
             "",
             "| clients | requests | errors | p50 latency (ms) | p99 latency (ms) | requests/s | tokens/s | vs predict "
             "| mean batch (sentences) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for level in results["levels"]:
        lines.append(f"| {level['concurrency']} | {level['requests']:,} | {level['errors']} | {level['p50_ms']:.1f} | "
                     f"{level['p99_ms']:.1f} | {level['requests_per_s']:,.0f} | {level['tokens_per_s']:,.0f} | "
                     f"{level['tokens_per_s'] / predict['tokens_per_s']:.2f} | {level['mean_batch']:.1f} |")
    return "\n".join(lines + latency_report(results["latency"]) + memory_report(results["memory"]))


def latency_report(latency: dict) -> list[str]:
    """The table of the single client's fixed-length sentences."""
    return ["", f"One client, sentences of {latency['tokens']} tokens ({latency['source']}):", "",
            "| tokens a request | requests | errors | p50 latency (ms) | p99 latency (ms) |", "|---|---|---|---|---|",
            f"| {latency['tokens']} | {latency['requests']:,} | {latency['errors']} | {latency['p50_ms']:.1f} | "
            f"{latency['p99_ms']:.1f} |"]


def memory_report(memory: list[dict]) -> list[str]:
    """The table of the service's resident memory as requests accumulate."""
    lines = ["", f"The service's resident memory (VmRSS) under {memory[1]['concurrency']} clients, requests counted "
                 "from the end of the levels above:", "",
             "| requests so far | errors | seconds | VmRSS (MiB) | growth (MiB) |", "|---|---|---|---|---|"]
    for step in memory:
        lines.append(f"| {step['total']:,} | {step['errors']} | {step['seconds']:.1f} | {step['rss_mib']:.1f} | "
                     f"{step['rss_mib'] - memory[0]['rss_mib']:+.1f} |")
    return lines


# ---------------------------------------------------------------------- the run
def fixed_length(sentences: list[list[str]], length: int) -> tuple[list[list[str]], str]:
    """The sentences of exactly ``length`` tokens, else the first longer one cut to ``length`` (and what they are)."""
    exact = [s for s in sentences if len(s) == length]
    if exact:
        return exact, f"{len(exact):,} input sentence(s) of exactly {length} tokens, in turn"
    longest = max(sentences, key=len)
    tokens = (longest * (length // len(longest) + 1))[:length]
    return [tokens], f"one input sentence cut or repeated to {length} tokens"


def single_client_latency(port: int, sentences: list[list[str]], args: argparse.Namespace) -> dict:
    """p50 / p99 latency of one client sending sentences of ``--latency-tokens`` tokens."""
    chosen, source = fixed_length(sentences, args.latency_tokens)
    level = run_async(load_level(predict_requests(port, chosen), [len(s) for s in chosen], 1, args.latency_requests,
                                 args.max_seconds, port))
    return {**level, "tokens": args.latency_tokens, "source": source}


def memory_levels(service: subprocess.Popen, port: int, requests: list[bytes], counts: list[int],
                  args: argparse.Namespace) -> list[dict]:
    """VmRSS of the service now, after ``--memory-requests`` more requests, then after 10 times as many."""
    steps = [{"total": 0, "errors": 0, "seconds": 0.0, "rss_mib": rss_mib(service.pid), "concurrency": 8}]
    for total in (args.memory_requests, 10 * args.memory_requests):
        level = run_async(load_level(requests, counts, 8, total - steps[-1]["total"], args.memory_seconds, port))
        steps.append({"total": steps[-1]["total"] + level["requests"], "errors": level["errors"] + steps[-1]["errors"],
                      "seconds": steps[-1]["seconds"] + level["seconds"], "rss_mib": rss_mib(service.pid),
                      "concurrency": 8})
    return steps


def measure(args: argparse.Namespace, service: subprocess.Popen, port: int, sentences: list[list[str]]) -> dict:
    """The throughput levels, the single client's fixed-length latency and the memory steps."""
    requests = predict_requests(port, sentences)
    counts = [len(s) for s in sentences]
    run_async(load_level(requests, counts, 4, 40, 5, port))  # warm-up
    levels = []
    for concurrency in args.concurrency:
        batches, texts = batch_counters(port)
        level = run_async(load_level(requests, counts, concurrency, args.max_requests, args.max_seconds, port))
        after_batches, after_texts = batch_counters(port)
        level["mean_batch"] = (after_texts - texts) / max(after_batches - batches, 1)
        levels.append(level)
    latency = single_client_latency(port, sentences, args)
    return {"levels": levels, "latency": latency, "memory": memory_levels(service, port, requests, counts, args)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    source = input_file(args)
    sentences = read_sentences(source)
    if not sentences:
        raise SystemExit(f"{source} has no sentences")
    workdir = Path(tempfile.mkdtemp(prefix="bench_serve-"))
    try:
        model = Path(args.model) if args.model else tiny_bundle(sentences, workdir / "model")
        predict = predict_tokens_per_second(model, sentences, args.threads, workdir, runs=1 if args.smoke else 2,
                                            repeat=args.predict_repeat)
        port = free_port()
        log = workdir / "serve.log"
        service = start_service(args, model, port, log)
        try:
            results = measure(args, service, port, sentences)
        finally:
            service.terminate()
            code = service.wait(60)
        if code != 0:
            raise SystemExit(f"lstm-nlp serve exited with {code} after SIGTERM: {log.read_text()[-3000:]}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    table = report(args, source, sentences, predict, results)
    print(table)
    if args.output:
        Path(args.output).write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
