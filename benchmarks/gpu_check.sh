#!/usr/bin/env bash
# One pass of the GPU checks: the CUDA tests, the encoder's packed (cuDNN) vs dense paths, and each
# recipe briefly on the real corpora with bf16 autocast. Writes its log and results under $OUT.
#
#   OUT=gpu_results DATA_TGZ=corpora.tgz bash benchmarks/gpu_check.sh
#
# DATA_TGZ is a tar.gz of the corpora laid out as in $LSTM_NLP_DATA (ud_english_ewt/, conll2003/,
# conll2000/, imdb/); WHEELS, if set, is a folder of wheels for packages missing on that machine.
# STEPS picks steps (default: all): pytest bench pos ner chunking imdb forecast; POS_EPOCHS and
# the *_LIMIT variables bound the runs.
set -uo pipefail
OUT=${OUT:-gpu_results}
mkdir -p "$OUT/runs"
LOG="$OUT/log.txt"
exec > >(tee -a "$LOG") 2>&1
export PYTHONUNBUFFERED=1 HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 LSTM_NLP_LOGLEVEL=INFO
SCRATCH=$(mktemp -d)
SITE="$SCRATCH/site"
if [ -n "${WHEELS:-}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$WHEELS"/*.whl
  export PYTHONPATH="$PWD:$SITE"
else
  export PYTHONPATH="$PWD"
fi
D="$SCRATCH/data"
mkdir -p "$D" && tar xzf "${DATA_TGZ:?set DATA_TGZ}" -C "$D"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version())"

STEPS=${STEPS:-"pytest bench pos ner chunking imdb forecast"}
step() {  # step KEY NAME SECONDS COMMAND...: runs it when KEY is in $STEPS
  local key=$1 name=$2 limit=$3; shift 3
  case " $STEPS " in *" $key "*) ;; *) return 0 ;; esac
  echo "=== $name (limit ${limit}s) ==="
  local start=$(date +%s.%N)
  timeout "$limit" "$@"; local rc=$?
  echo "=== $name: rc=$rc wall=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")s ==="
}

step pytest "pytest gpu" 80 python3 -m pytest -q -p no:cacheprovider -m gpu tests/training tests/modules tests/models
step bench "bench_encoder --device cuda" 110 python3 benchmarks/bench_encoder.py --device cuda --json "$OUT/bench_encoder_cuda.json" --repeats 3
common=(--device cuda --precision bf16 --no-progress --no-checkpoints)
step pos "pos EWT bf16" "${POS_LIMIT:-140}" python3 recipes/pos_tagger.py "${common[@]}" --epochs "${POS_EPOCHS:-12}" --output-dir "$OUT/runs/pos" \
  --train $D/ud_english_ewt/en_ewt-ud-train.conllu --dev $D/ud_english_ewt/en_ewt-ud-dev.conllu
step ner "ner CoNLL-2003 bf16" 80 python3 recipes/ner.py "${common[@]}" --epochs 8 --output-dir "$OUT/runs/ner" \
  --train $D/conll2003/train.txt --dev $D/conll2003/dev.txt
step chunking "chunking CoNLL-2000 bf16" 50 python3 recipes/chunking.py "${common[@]}" --epochs 8 \
  --output-dir "$OUT/runs/chunking" --train $D/conll2000/train.txt
step imdb "imdb bpe bf16" "${IMDB_LIMIT:-90}" python3 recipes/imdb_sentiment.py "${common[@]}" --epochs "${IMDB_EPOCHS:-3}" --tokenizer bpe --num-proc 8 \
  --cache-dir "$SCRATCH/cache" --output-dir "$OUT/runs/imdb" --train $D/imdb/train.jsonl
step forecast "forecast" 30 python3 recipes/forecast.py "${common[@]}" --output-dir "$OUT/runs/forecast"
[ -d "$OUT/runs" ] && (cd "$OUT" && tar czf runs.tgz --exclude='*.safetensors' --exclude='*.png' runs && rm -rf runs)
exit 0
