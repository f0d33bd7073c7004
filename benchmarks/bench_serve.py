"""`lstm-nlp serve` under load: latency and tokens/s at 1, 8 and 64 concurrent clients, beside `lstm-nlp predict`.

    python benchmarks/bench_serve.py --model runs/pos/model                # data/pos/dev.conllu, or EWT dev
    python benchmarks/bench_serve.py --model runs/pos/model --output serve.md
    python benchmarks/bench_serve.py --smoke                               # seconds: a tiny untrained bundle

Clients (raw asyncio streams in this process, on uvloop when installed) send one sentence of ``--input`` (EWT
dev with the corpora, else the bundled sample) a request over keep-alive connections, back to back; "vs predict"
divides tokens/s by ``lstm-nlp predict``'s on the same sentences (its start-up taken out) in the same run. Then
one client sends sentences of ``--latency-tokens`` tokens, and 8 clients N then 9 N more requests while the
service's VmRSS is read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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

from common import SAMPLE_DIR, data_root, markdown_table, portable, run, run_recipe

LSTM_NLP = [sys.executable, "-m", "lstm_nlp"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--model", help="tagger bundle to serve (required unless --smoke)")
    add("--input", help="CoNLL-U file of the sentences (default: EWT dev with the corpora, else data/pos/dev.conllu)")
    add("--concurrency", type=int, nargs="+", default=[1, 8, 64], help="concurrent clients per level")
    add("--max-requests", type=int, default=3000, help="requests per level at most")
    add("--max-seconds", type=float, default=20.0, help="seconds per level at most")
    add("--threads", type=int, default=1, help="torch threads of the service and of predict")
    add("--max-wait-ms", type=float, default=5.0, help="the service's --max-wait-ms")
    add("--max-batch-tokens", type=int, default=4096, help="the service's --max-batch-tokens")
    add("--predict-repeat", type=int, default=4, help="predict reads the sentences this many times")
    add("--latency-tokens", type=int, default=20, help="sentence length of the single-client latency")
    add("--latency-requests", type=int, default=500, help="requests of that measurement at most")
    add("--memory-requests", type=int, default=1000, help="N: the RSS is read after N and 10 N requests")
    add("--memory-seconds", type=float, default=120.0, help="seconds per memory step at most")
    add("--output", help="also write the markdown tables here")
    add("--smoke", action="store_true", help="seconds: the bundled sample, a tiny untrained bundle, few requests")
    args = parser.parse_args(argv)
    if args.smoke:
        args.max_requests, args.max_seconds, args.predict_repeat = min(args.max_requests, 40), 5.0, 1
        args.latency_requests, args.memory_requests, args.memory_seconds = 20, 10, 5.0
    elif not args.model:
        parser.error("--model is required (or --smoke)")
    return args


def read_sentences(args: argparse.Namespace) -> tuple[Path, list[list[str]]]:
    """``--input``, else EWT dev when the corpora are there (not with ``--smoke``), else the bundled sample."""
    from lstm_nlp.data.conll_blocks import read_blocks

    ewt = data_root() / "ud_english_ewt" / "en_ewt-ud-dev.conllu" if data_root() else None
    path = Path(args.input) if args.input else ewt if ewt and ewt.is_file() and not args.smoke else \
        SAMPLE_DIR / "pos" / "dev.conllu"
    with open(path, encoding="utf-8") as lines:
        blocks = read_blocks((line.rstrip("\n") for line in lines), kind="conllu", source=str(path))
        return path, [block.tokens for block in blocks if block.tokens]


def predict_tokens_per_second(args: argparse.Namespace, model: Path, sentences: list[list[str]], work: Path) -> dict:
    """``lstm-nlp predict`` on the sentences ``--predict-repeat`` times, less its start-up: best of 2 runs (1 smoke)."""
    def timed(lines: list[list[str]]) -> float:
        (work / "in.txt").write_text("".join(" ".join(s) + "\n" for s in lines), encoding="utf-8")
        start = time.perf_counter()
        subprocess.run([*LSTM_NLP, "predict", "--model", str(model), "--input", str(work / "in.txt"), "--input-format",
                        "tokens", "--output-format", "jsonl", "--threads", str(args.threads)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return time.perf_counter() - start

    runs, tokens = range(1 if args.smoke else 2), args.predict_repeat * sum(map(len, sentences))
    startup, total = min(timed(sentences[:1]) for _ in runs), min(timed(sentences * args.predict_repeat) for _ in runs)
    return {"seconds": total, "startup_s": startup, "tokens": tokens,
            "tokens_per_s": tokens / max(total - startup, 1e-6)}


# ---------------------------------------------------------------------- the service and its clients
def start_service(args: argparse.Namespace, model: Path, log: Path) -> tuple[subprocess.Popen, int]:
    """``lstm-nlp serve`` on a free port, once /health answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [*LSTM_NLP, "serve", "--model", str(model), "--port", str(port), "--threads", str(args.threads),
               "--max-wait-ms", str(args.max_wait_ms), "--max-batch-tokens", str(args.max_batch_tokens),
               "--max-queue", "4096", "--log-level", "warning"]
    with open(log, "wb") as stream:  # a file, not a pipe: a pipe nobody reads would block the service when full
        process = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"lstm-nlp serve exited with {process.returncode}: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
                if answer.status == 200:
                    return process, port
        except OSError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("lstm-nlp serve did not become healthy within 120 s")


def batch_counters(port: int) -> tuple[float, float]:
    """(model batches, texts in them) so far, from the service's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    values = dict(re.findall(r"^(lstm_nlp_batch_texts_(?:count|sum)) (\S+)$", text, re.MULTILINE))
    return float(values.get("lstm_nlp_batch_texts_count", 0)), float(values.get("lstm_nlp_batch_texts_sum", 0))


_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)
_CLOSE = re.compile(rb"\r\nconnection: *close", re.IGNORECASE)


def predict_requests(port: int, sentences: list[list[str]]) -> list[bytes]:
    """One pre-encoded ``POST /v1/predict`` of ``{"tokens": [sentence]}`` per sentence."""
    bodies = [json.dumps({"tokens": [s]}).encode() for s in sentences]
    return [(f"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
             f"Content-Length: {len(body)}\r\n\r\n").encode() + body for body in bodies]


def run_level(port: int, requests: list[bytes], tokens: list[int], concurrency: int, max_requests: int,
              max_seconds: float) -> dict:
    """``concurrency`` clients on keep-alive connections sending requests back to back, until either bound
    (on uvloop when installed: a cheaper client, which shares the machine with the service)."""
    latencies: list[float] = []
    counts = {"next": 0, "tokens": 0, "errors": 0}

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while counts["next"] < max_requests and time.perf_counter() < stop_at:
                index = counts["next"] % len(requests)
                counts["next"] += 1
                sent = time.perf_counter()
                writer.write(requests[index])
                head = await reader.readuntil(b"\r\n\r\n")
                length = _LENGTH.search(head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                latencies.append(time.perf_counter() - sent)
                ok = head[9:12] == b"200"
                counts["tokens" if ok else "errors"] += tokens[index] if ok else 1
                if _CLOSE.search(head):
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    async def clients() -> None:
        await asyncio.gather(*(client() for _ in range(concurrency)))

    start = time.perf_counter()
    stop_at = start + max_seconds
    try:
        import uvloop
        uvloop.run(clients())
    except ImportError:
        asyncio.run(clients())
    wall = time.perf_counter() - start
    latencies.sort()
    return {"concurrency": concurrency, "requests": len(latencies), "errors": counts["errors"], "seconds": wall,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
            "requests_per_s": len(latencies) / wall, "tokens_per_s": counts["tokens"] / wall}


def measure(args: argparse.Namespace, service: subprocess.Popen, port: int, sentences: list[list[str]]) -> dict:
    """The throughput levels, the single client's fixed-length latency and the memory steps (the service's VmRSS)."""
    def rss_mib() -> float:
        status = Path(f"/proc/{service.pid}/status").read_text(encoding="ascii")
        return int(re.search(r"^VmRSS:\s+(\d+)", status, re.MULTILINE).group(1)) / 1024

    requests, counts = predict_requests(port, sentences), [len(s) for s in sentences]
    run_level(port, requests, counts, 4, 40, 5)  # warm-up
    levels = []
    for concurrency in args.concurrency:
        batches, texts = batch_counters(port)
        levels.append(run_level(port, requests, counts, concurrency, args.max_requests, args.max_seconds))
        after_batches, after_texts = batch_counters(port)
        levels[-1]["mean_batch"] = (after_texts - texts) / max(after_batches - batches, 1)
    length = args.latency_tokens
    chosen = [s for s in sentences if len(s) == length]
    source = f"{len(chosen):,} input sentence(s) of exactly {length} tokens, in turn"
    if not chosen:
        longest = max(sentences, key=len)
        chosen = [(longest * (length // len(longest) + 1))[:length]]
        source = f"one input sentence cut or repeated to {length} tokens"
    latency = {**run_level(port, predict_requests(port, chosen), [length] * len(chosen), 1, args.latency_requests,
                           args.max_seconds), "tokens": length, "source": source}
    memory = [{"total": 0, "errors": 0, "seconds": 0.0, "rss_mib": rss_mib(), "concurrency": 8}]
    for total in (args.memory_requests, 10 * args.memory_requests):
        level = run_level(port, requests, counts, 8, total - memory[-1]["total"], args.memory_seconds)
        memory.append({"total": memory[-1]["total"] + level["requests"], "concurrency": 8,
                       "errors": level["errors"] + memory[-1]["errors"], "rss_mib": rss_mib(),
                       "seconds": memory[-1]["seconds"] + level["seconds"]})
    return {"levels": levels, "latency": latency, "memory": memory}


# ---------------------------------------------------------------------- report
def report(args: argparse.Namespace, source: Path, sentences: list[list[str]], predict: dict,
           results: dict) -> str:
    """The throughput levels, the single client's fixed-length latency and the memory steps, as markdown."""
    import torch

    tokens, latency, memory = sum(map(len, sentences)), results["latency"], results["memory"]
    levels = [[level["concurrency"], f"{level['requests']:,}", level["errors"], f"{level['p50_ms']:.1f}",
               f"{level['p99_ms']:.1f}", f"{level['requests_per_s']:,.0f}", f"{level['tokens_per_s']:,.0f}",
               f"{level['tokens_per_s'] / predict['tokens_per_s']:.2f}", f"{level['mean_batch']:.1f}"]
              for level in results["levels"]]
    return "\n".join([
        (f"Machine: {os.cpu_count()} cores; torch {torch.__version__}; service and predict with --threads "
         f"{args.threads} (the clients share the machine). Input: {portable(source)}, {len(sentences):,} sentences, "
         f"{tokens:,} tokens, one sentence a request; service --max-wait-ms {args.max_wait_ms:g} --max-batch-tokens "
         f"{args.max_batch_tokens}; at most {args.max_requests:,} requests or {args.max_seconds:g} s per level."
         + (" Smoke run: the figures mean nothing." if args.smoke else "")), "",
        (f"`lstm-nlp predict --input-format tokens --output-format jsonl`: {predict['tokens_per_s']:,.0f} tokens/s "
         f"({predict['seconds']:.2f} s for the {predict['tokens']:,} tokens of the sentences read "
         f"{args.predict_repeat} time(s), {predict['startup_s']:.2f} s of it start-up)."), "",
        markdown_table(["clients", "requests", "errors", "p50 latency (ms)", "p99 latency (ms)", "requests/s",
                        "tokens/s", "vs predict", "mean batch (sentences)"], levels), "",
        f"One client, sentences of {latency['tokens']} tokens ({latency['source']}):", "",
        markdown_table(["tokens a request", "requests", "errors", "p50 latency (ms)", "p99 latency (ms)"],
                       [[latency["tokens"], f"{latency['requests']:,}", latency["errors"], f"{latency['p50_ms']:.1f}",
                         f"{latency['p99_ms']:.1f}"]]), "",
        (f"The service's resident memory (VmRSS) under {memory[1]['concurrency']} clients, requests counted from "
         "the end of the levels above:"), "",
        markdown_table(["requests so far", "errors", "seconds", "VmRSS (MiB)", "growth (MiB)"],
                       [[f"{m['total']:,}", m["errors"], f"{m['seconds']:.1f}", f"{m['rss_mib']:.1f}",
                         f"{m['rss_mib'] - memory[0]['rss_mib']:+.1f}"] for m in memory])])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    source, sentences = read_sentences(args)
    if not sentences:
        raise SystemExit(f"{source} has no sentences")
    work = Path(tempfile.mkdtemp(prefix="bench_serve-"))
    try:
        # the smoke run's model: the POS recipe, one epoch on the bundled sample
        model = Path(args.model) if args.model else run_recipe("pos_tagger", work, "--epochs", "1")
        predict = predict_tokens_per_second(args, model, sentences, work)
        service, port = start_service(args, model, work / "serve.log")
        try:
            results = measure(args, service, port, sentences)
        finally:
            service.terminate()
            code = service.wait(60)
        if code != 0:
            raise SystemExit(f"lstm-nlp serve exited with {code} after SIGTERM: {(work / 'serve.log').read_text()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = report(args, source, sentences, predict, results)
    print(table)
    if args.output:
        Path(args.output).write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
