#!/usr/bin/env bash
# ppgkd (libtorch C++) against plain Python PyTorch on the same machine at the same moment.
#
#  A. Training throughput: windows/s of `ppgkd train` and of bench/python/train_throughput.py
#     (same model, AdamW + warm-up/cosine, label-smoothed CE, batch 256, same N windows) for
#     each of MODELS at TRAIN_THREADS threads.
#  B. Distillation runs/hour: `ppgkd distill --strategy soft` (teacher outputs computed once per
#     fold, into a fresh cache each run) against bench/python/kd_baseline.py (teacher forward at
#     every step), same teacher and student specs, windows and epochs, KD_THREADS threads.
#
# Each measurement is repeated REPS times with the two sides alternating (C++ first on odd
# repetitions, Python first on even ones); the table reports medians.
#
# usage: bench/compare_python.sh PPGKD_BINARY OUT_DIR
#   env: PYTHON=/usr/bin/python3 REPS=3 MODELS="r3 r5 r7" TRAIN_EPOCHS=3 TRAIN_THREADS=2
#        KD_TEACHERS="r7" KD_STUDENT=r3 KD_EPOCHS=10 KD_THREADS=1 DATA=synthetic
#        SKIP_A=1 / SKIP_B=1 to run only one benchmark
# Needs Debian's python3-torch: PPGKD_BENCH_DEPS=1 scripts/install-deps.sh
# Writes OUT_DIR/results.md (the tables), OUT_DIR/raw.tsv and the runs' logs and model dirs.
set -euo pipefail
if [[ $# -ne 2 ]]; then
  sed -n 2,19p "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
ppgkd=$(realpath "$1")
out=$2
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-/usr/bin/python3}
reps=${REPS:-3}
models=${MODELS:-r3 r5 r7}
train_epochs=${TRAIN_EPOCHS:-3} train_threads=${TRAIN_THREADS:-2}
kd_teachers=${KD_TEACHERS:-r7} kd_student=${KD_STUDENT:-r3}
kd_epochs=${KD_EPOCHS:-10} kd_threads=${KD_THREADS:-1}
data=${DATA:-synthetic}

[[ -x "$ppgkd" ]] || { echo "compare_python: $1 is not an executable ppgkd binary" >&2; exit 1; }
if ! "$py" -c 'import torch' 2>/dev/null; then
  cat >&2 <<EOF
compare_python: $py cannot import torch (python3-torch is missing).
Install it with:  PPGKD_BENCH_DEPS=1 scripts/install-deps.sh
(Note: a pyenv 'python3' on PATH usually has no torch; this script uses PYTHON=$py.)
EOF
  exit 1
fi
command -v jq >/dev/null || { echo "compare_python: jq is needed to read model.json" >&2; exit 1; }

mkdir -p "$out"
out=$(realpath "$out")
raw="$out/raw.tsv"
facts="$out/facts.txt"
echo -e "bench\tconfig\trep\tside\tvalue\textra\tload1_before\tload1_after" >"$raw"
: >"$out/equivalence.txt"

load1() { cut -d' ' -f1 /proc/loadavg; }
now() { date +%s.%N; }
params_of() {  # rung -> parameters as `ppgkd models` prints them
  "$ppgkd" models | awk -v r="$1" '$1 == r { print $3 }'
}

{
  echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(hostname)"
  echo "nproc: $(nproc)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
  echo "loadavg_at_start: $(cat /proc/loadavg)"
  echo "ppgkd: $ppgkd"
  echo "ppgkd_git: $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "python: $py $("$py" -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__)')"
  echo "libtorch: $(dpkg-query -W -f='${Version}' libtorch1.13 2>/dev/null || echo unknown)"
  echo "reps: $reps"
  echo "busiest processes at start:"
  ps -eo pid,pcpu,etime,args --sort=-pcpu | head -4 | cut -c1-150 | sed 's/^/  /'
} >"$facts"
cat "$facts"

# Load average every 5 s for the whole benchmark (the 1-minute average lags short runs).
( while :; do echo "$(date -u +%H:%M:%S) $(cat /proc/loadavg)"; sleep 5; done ) >"$out/loadavg.log" &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true' EXIT

# Warm the page cache for both runtimes so the first timed run does not pay for disk reads.
"$ppgkd" models >/dev/null
"$py" -c 'import torch' >/dev/null

# ------------------------------------------------------------------------------ A: throughput
n_windows=""
run_cpp_train() {  # MODEL REP
  local m=$1 rep=$2 dir="$out/A/$1-cpp-$2" l0 l1
  rm -rf "$dir"
  l0=$(load1)
  "$ppgkd" train --data "$data" --model "$m" --folds 1 --epochs "$train_epochs" \
    --threads "$train_threads" --patience 0 --val-fraction 0 --out "$dir" >"$dir.log" 2>&1
  l1=$(load1)
  local n
  n=$(tr '\r' '\n' <"$dir.log" | sed -n 's/^fold 1\/1: \([0-9]*\) fit .*/\1/p' | head -1)
  [[ -z "$n_windows" ]] && n_windows=$n
  [[ "$n" == "$n_windows" ]] || { echo "compare_python: fit windows changed: $n vs $n_windows" >&2; exit 1; }
  local wps params
  wps=$(jq -r '.metrics.train_windows_per_second' "$dir/fold-0/model.json")
  params=$(jq -r '.params' "$dir/fold-0/model.json")
  echo -e "A\t$m\t$rep\tcpp\t$wps\tN=$n;params=$params;epochs=$train_epochs;threads=$train_threads\t$l0\t$l1" >>"$raw"
  echo "A $m rep $rep cpp    $wps windows/s (N=$n, load $l0 -> $l1)"
}
run_py_train() {  # MODEL REP
  local m=$1 rep=$2 json="$out/A/$1-py-$2.json" l0 l1 wps params
  l0=$(load1)
  "$py" "$here/python/train_throughput.py" --model "$m" --windows "$n_windows" \
    --epochs "$train_epochs" --threads "$train_threads" --expect-params "$(params_of "$m")" \
    --json "$json" >"${json%.json}.log" 2>&1
  l1=$(load1)
  wps=$(jq -r '.train_windows_per_second' "$json")
  params=$(jq -r '.params' "$json")
  echo -e "A\t$m\t$rep\tpython\t$wps\tN=$n_windows;params=$params;epochs=$train_epochs;threads=$train_threads\t$l0\t$l1" >>"$raw"
  echo "A $m rep $rep python $wps windows/s (N=$n_windows, load $l0 -> $l1)"
}

if [[ "${SKIP_A:-0}" != 1 ]]; then
  mkdir -p "$out/A"
  for rep in $(seq 1 "$reps"); do
    for m in $models; do
      if ((rep % 2 == 1)); then run_cpp_train "$m" "$rep"; run_py_train "$m" "$rep"
      else run_py_train "$m" "$rep"; run_cpp_train "$m" "$rep"; fi
    done
  done
fi

# ------------------------------------------------------------------------------ B: distillation
run_cpp_kd() {  # TEACHER_RUNG TEACHER_DIR REP
  local t=$1 tdir=$2 rep=$3 dir="$out/B/$1-cpp-$3" cache="$out/B/cache-$1-$3" l0 l1 t0 t1
  rm -rf "$dir" "$cache"
  mkdir -p "$cache"
  cp "$wcache"/windows-*.ppgcache "$cache/"
  l0=$(load1); t0=$(now)
  "$ppgkd" distill --data "$data" --teacher "$tdir" --student "$kd_student" --strategy soft \
    --alpha 0.9 --temperature 2 --folds 1 --epochs "$kd_epochs" --threads "$kd_threads" \
    --patience 0 --val-fraction 0 --cache "$cache" --out "$dir" >"$dir.log" 2>&1
  t1=$(now); l1=$(load1)
  local wall hit tsec
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  hit=$(jq -r '.extra.teacher.outputs_cache.hit' "$dir/fold-0/model.json")
  tsec=$(jq -r '.metrics.teacher_outputs_seconds' "$dir/fold-0/model.json")
  [[ "$hit" == false ]] || { echo "compare_python: teacher outputs unexpectedly cached" >&2; exit 1; }
  echo -e "B\t$t>$kd_student\t$rep\tcpp\t$wall\tteacher_pass_s=$tsec;N=$n_windows;epochs=$kd_epochs;threads=$kd_threads\t$l0\t$l1" >>"$raw"
  echo "B $t>$kd_student rep $rep cpp    ${wall}s wall (teacher pass ${tsec}s, load $l0 -> $l1)"
  if [[ "$rep" == 1 ]]; then  # untimed: the Python twin reproduces ppgkd's teacher logits
    "$py" "$here/python/check_equivalence.py" "$tdir/fold-0" "$cache"/windows-*.ppgcache \
      "$cache"/teacher-outputs-*.bin | tee -a "$out/equivalence.txt"
  fi
  rm -rf "$cache"
}
run_py_kd() {  # TEACHER_RUNG REP
  local t=$1 rep=$2 json="$out/B/$1-py-$2.json" l0 l1 t0 t1 wall tf tparams sparams
  tparams=$(params_of "$t") sparams=$(params_of "$kd_student")  # before the clock starts
  l0=$(load1); t0=$(now)
  "$py" "$here/python/kd_baseline.py" --teacher "$t" --student "$kd_student" \
    --windows "$n_windows" --epochs "$kd_epochs" --threads "$kd_threads" --alpha 0.9 \
    --temperature 2 --expect-teacher-params "$tparams" \
    --expect-student-params "$sparams" --json "$json" >"${json%.json}.log" 2>&1
  t1=$(now); l1=$(load1)
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  tf=$(jq -r '.teacher_forward_seconds' "$json")
  echo -e "B\t$t>$kd_student\t$rep\tpython\t$wall\tteacher_fwd_s=$tf;N=$n_windows;epochs=$kd_epochs;threads=$kd_threads\t$l0\t$l1" >>"$raw"
  echo "B $t>$kd_student rep $rep python ${wall}s wall (teacher forwards ${tf}s, load $l0 -> $l1)"
}

if [[ "${SKIP_B:-0}" != 1 ]]; then
  mkdir -p "$out/B"
  # A window cache shared by every ppgkd run (a sweep keeps one too), so the timed runs load
  # windows rather than synthesise them; teacher outputs are never shared (fresh cache per run).
  wcache="$out/B/windows-cache"
  if ! ls "$wcache"/windows-*.ppgcache >/dev/null 2>&1; then
    "$ppgkd" train --data "$data" --model r1 --folds 1 --epochs 1 --threads 1 --patience 0 \
      --val-fraction 0 --cache "$wcache" --out "$out/B/warm" >"$out/B/warm.log" 2>&1
  fi
  if [[ -z "$n_windows" ]]; then
    n_windows=$(tr '\r' '\n' <"$out/B/warm.log" | sed -n 's/^fold 1\/1: \([0-9]*\) fit .*/\1/p' | head -1)
  fi
  for t in $kd_teachers; do
    # The teacher: trained for one epoch (its weights do not matter for speed); not timed.
    tdir="$out/B/teacher-$t"
    if [[ ! -f "$tdir/fold-0/model.json" ]]; then
      rm -rf "$tdir"
      echo "B: training the $t teacher (1 epoch, not timed)"
      "$ppgkd" train --data "$data" --model "$t" --folds 1 --epochs 1 --threads 2 --patience 0 \
        --val-fraction 0 --cache "$wcache" --out "$tdir" >"$tdir.log" 2>&1
    fi
    for rep in $(seq 1 "$reps"); do
      if ((rep % 2 == 1)); then run_cpp_kd "$t" "$tdir" "$rep"; run_py_kd "$t" "$rep"
      else run_py_kd "$t" "$rep"; run_cpp_kd "$t" "$tdir" "$rep"; fi
    done
  done
fi

echo "loadavg_at_end: $(cat /proc/loadavg)" >>"$facts"
awk '{ print $2 }' "$out/loadavg.log" | sort -g | awk '{ v[NR] = $1 } END {
  if (NR) printf "load1 sampled every 5 s during the benchmark: min %s, median %s, max %s (%d samples)\n",
    v[1], v[int((NR + 1) / 2)], v[NR], NR }' >>"$facts"
any_model=$(find "$out" -path '*fold-0/model.json' -print -quit)
[[ -n "$any_model" ]] && echo "ppgkd_binary_commit: $(jq -r '.context.git_commit' "$any_model")" >>"$facts"
cat >>"$facts" <<EOF
settings: data=$data N=$n_windows models=[$models] train_epochs=$train_epochs train_threads=$train_threads kd_teachers=[$kd_teachers] kd_student=$kd_student kd_epochs=$kd_epochs kd_threads=$kd_threads
EOF
"$py" "$here/python/make_table.py" "$raw" "$facts" >"$out/results.md"
if [[ -s "$out/equivalence.txt" ]]; then
  {
    echo "Forward equivalence (ppgkd's weights in the Python model vs ppgkd's cached teacher logits):"
    echo
    sed 's/^/    /' "$out/equivalence.txt"
  } >>"$out/results.md"
fi
cat "$out/results.md"
echo "results: $out/results.md"
