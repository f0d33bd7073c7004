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
out). The mean batch is what the service's /metrics counted over the level. The clients run in
this process (asyncio, one core at most), on the same machine as the service.
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
    parser.add_argument("--output", help="also write the markdown table here")
    parser.add_argument("--smoke", action="store_true", help="a few seconds: the bundled sample, a tiny untrained "
                                                             "bundle, few requests (checks the code path)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.max_requests, args.max_seconds = min(args.max_requests, 40), min(args.max_seconds, 5.0)
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
                              runs: int = 2) -> dict:
    """Tokens/s of ``lstm-nlp predict`` on ``sentences`` (start-up, timed on one line, taken out)."""
    full, one = workdir / "tokens.txt", workdir / "one.txt"
    full.write_text("".join(" ".join(s) + "\n" for s in sentences), encoding="utf-8")
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
    tokens = sum(map(len, sentences))
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


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the status and body."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
        payload = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def load_level(port: int, bodies: list[bytes], tokens: list[int], concurrency: int, max_requests: int,
                     max_seconds: float) -> dict:
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
                index = next_index
                next_index += 1
                sent = time.perf_counter()
                status, _ = await connection.post("/v1/predict", bodies[index % len(bodies)])
                latencies.append(time.perf_counter() - sent)
                if status == 200:
                    answered_tokens += tokens[index % len(bodies)]
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
           levels: list[dict]) -> str:
    import torch

    tokens = sum(map(len, sentences))
    lines = [f"Machine: {machine()}; torch {torch.__version__}; service and predict with --threads {args.threads} "
             f"(the clients share the machine). Input: {portable(source)}, {len(sentences):,} sentences, "
             f"{tokens:,} tokens, one sentence a request; service --max-wait-ms {args.max_wait_ms:g} "
             f"--max-batch-tokens {args.max_batch_tokens}; at most {args.max_requests:,} requests or "
             f"{args.max_seconds:g} s per level." + (" Smoke run: the figures mean nothing." if args.smoke else ""),
             "",
             f"`lstm-nlp predict --input-format tokens --output-format jsonl`: {predict['tokens_per_s']:,.0f} tokens/s "
             f"({predict['seconds']:.2f} s for the {tokens:,} tokens, {predict['startup_s']:.2f} s of it start-up).",
             "",
             "| clients | requests | errors | p50 latency (ms) | p99 latency (ms) | requests/s | tokens/s | vs predict "
             "| mean batch (sentences) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for level in levels:
        lines.append(f"| {level['concurrency']} | {level['requests']:,} | {level['errors']} | {level['p50_ms']:.1f} | "
                     f"{level['p99_ms']:.1f} | {level['requests_per_s']:,.0f} | {level['tokens_per_s']:,.0f} | "
                     f"{level['tokens_per_s'] / predict['tokens_per_s']:.2f} | {level['mean_batch']:.1f} |")
    return "\n".join(lines)


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
        predict = predict_tokens_per_second(model, sentences, args.threads, workdir, runs=1 if args.smoke else 2)
        port = free_port()
        log = workdir / "serve.log"
        service = start_service(args, model, port, log)
        try:
            bodies = [json.dumps({"tokens": [s]}).encode() for s in sentences]
            counts = [len(s) for s in sentences]
            asyncio.run(load_level(port, bodies, counts, 4, 40, 5))  # warm-up
            levels = []
            for concurrency in args.concurrency:
                batches, texts = batch_counters(port)
                level = asyncio.run(load_level(port, bodies, counts, concurrency, args.max_requests, args.max_seconds))
                after_batches, after_texts = batch_counters(port)
                level["mean_batch"] = (after_texts - texts) / max(after_batches - batches, 1)
                levels.append(level)
        finally:
            service.terminate()
            code = service.wait(60)
        if code != 0:
            raise SystemExit(f"lstm-nlp serve exited with {code} after SIGTERM: {log.read_text()[-3000:]}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    table = report(args, source, sentences, predict, levels)
    print(table)
    if args.output:
        Path(args.output).write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
