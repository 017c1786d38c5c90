#!/usr/bin/env bash
# Student runs per hour: grouped training (`ppgkd group`, all runs of one student in one process)
# against one run per process (`ppgkd distill` / `ppgkd train`, as a sweep without grouping runs
# them) and against the plain PyTorch KD loop (bench/python/kd_baseline.py, teacher forward at
# every step), side by side on real data.
#
# For each student of STUDENTS, one unit of work is 5 strategies (none, hard, soft, dkd, feature)
# x SEEDS on fold 0 of 4 subject-wise folds of DATA, EPOCHS epochs, batch 256, 1 thread, the
# teacher TEACHER trained for one epoch on the same fold (not timed; its weights do not change
# the cost). Per repetition the three sides run back to back, in an order that rotates with the
# repetition, so machine load hits all three alike:
#   grouped      one `ppgkd group` process with all 15 members (teacher outputs computed once,
#                into a fresh cache);
#   per-process  the same 15 runs as 15 processes in turn (fresh teacher-output cache for the
#                first; the others reuse it, as a sweep's students of one teacher do);
#   python       PY_RUNS soft-KD runs of kd_baseline.py (N = the fold's fit windows of seed 1;
#                it does no validation or test pass, ppgkd's runs do both).
# runs/h = runs / wall seconds * 3600 (python: 3600 / median seconds per run). Medians over REPS.
#
# usage: bench/group_bench.sh PPGKD_BINARY OUT_DIR
#   env: DATA=../shared/data/bami1 STUDENTS="r1 r3 r5 m2 m4" TEACHER=r7 EPOCHS=2
#        SEEDS="1 2 3" REPS=1 PY_RUNS=3 PYTHON=/usr/bin/python3
#        SIDES="grouped per-process python" (a subset adds rows to an earlier OUT_DIR's raw.tsv)
# Writes OUT_DIR/results.md (the table) and OUT_DIR/raw.tsv.
set -euo pipefail
if [[ $# -ne 2 ]]; then
  sed -n 2,23p "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
ppgkd=$(realpath "$1")
out=$(mkdir -p "$2" && realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-/usr/bin/python3}
data=$(realpath "${DATA:-${PPGKD_DATA:-../shared/data}/bami1}")
students=${STUDENTS:-r1 r3 r5 m2 m4}
teacher=${TEACHER:-r7}
epochs=${EPOCHS:-2}
seeds=${SEEDS:-1 2 3}
reps=${REPS:-1}
py_runs=${PY_RUNS:-3}
strategies="none hard soft dkd feature"
raw="$out/raw.tsv"
now() { date +%s.%N; }
load1() { cut -d' ' -f1 /proc/loadavg; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
common=(--data "$data" --folds 4 --fold 0 --threads 1)

# Windows cache and teacher (not timed).
wcache="$out/windows-cache"
if [[ ! -f "$out/warm/model.json" ]]; then
  "$ppgkd" train "${common[@]}" --model r1 --epochs 1 --seed 1 --cache "$wcache" \
    --out "$out/warm" >"$out/warm.log" 2>&1
fi
n_windows=$(tr '\r' '\n' <"$out/warm.log" | sed -n 's/^fold 1\/4: \([0-9]*\) fit .*/\1/p' | head -1)
tdir="$out/teacher-$teacher"
if [[ ! -f "$tdir/model.json" ]]; then
  "$ppgkd" train "${common[@]}" --model "$teacher" --epochs 1 --cache "$wcache" --out "$tdir" \
    >"$out/teacher.log" 2>&1
fi
fresh_cache() {  # DIR: the window cache without any teacher outputs
  rm -rf "$1" && mkdir -p "$1" && cp "$wcache"/windows-*.ppgcache "$1"/
}
member_args() {  # STUDENT STRATEGY SEED OUT CACHE -> one run's arguments, one per line
  local s=$1 st=$2 seed=$3 o=$4 c=$5
  if [[ $st == none ]]; then
    printf '%s\n' train --model "$s"
  else
    printf '%s\n' distill --student "$s" --strategy "$st" --teacher "$tdir"
  fi
  printf '%s\n' "${common[@]}" --epochs "$epochs" --seed "$seed" --cache "$c" --out "$o" --resume
}

run_grouped() {  # STUDENT REP
  local s=$1 rep=$2 dir="$out/$1/grouped-$2" t0 t1 l0
  rm -rf "$dir" && mkdir -p "$dir"
  fresh_cache "$dir/cache"
  {
    echo '{"members": ['
    local first=1
    for seed in $seeds; do
      for st in $strategies; do
        [[ $first == 1 ]] || echo ','
        first=0
        member_args "$s" "$st" "$seed" "$dir/$st-$seed" "$dir/cache" | jq -R . | jq -s -c .
      done
    done
    echo ']}'
  } >"$dir/members.json"
  local n
  n=$(jq '.members | length' "$dir/members.json")
  l0=$(load1); t0=$(now)
  "$ppgkd" group --members "$dir/members.json" >"$dir/log" 2>&1
  t1=$(now)
  echo -e "$s\t$rep\tgrouped\t$n\t$(secs "$t0" "$t1")\t$l0\t$(load1)" >>"$raw"
  echo "$s rep $rep grouped: $n runs in $(secs "$t0" "$t1") s"
}

run_per_process() {  # STUDENT REP
  local s=$1 rep=$2 dir="$out/$1/single-$2" t0 t1 l0 n=0
  rm -rf "$dir" && mkdir -p "$dir"
  fresh_cache "$dir/cache"
  l0=$(load1); t0=$(now)
  for seed in $seeds; do
    for st in $strategies; do
      mapfile -t args < <(member_args "$s" "$st" "$seed" "$dir/$st-$seed" "$dir/cache")
      "$ppgkd" "${args[@]}" >"$dir/$st-$seed.log" 2>&1
      n=$((n + 1))
    done
  done
  t1=$(now)
  echo -e "$s\t$rep\tper-process\t$n\t$(secs "$t0" "$t1")\t$l0\t$(load1)" >>"$raw"
  echo "$s rep $rep per-process: $n runs in $(secs "$t0" "$t1") s"
}

run_python() {  # STUDENT REP
  local s=$1 rep=$2 dir="$out/$1/python-$2" t0 t1 l0
  mkdir -p "$dir"
  for i in $(seq 1 "$py_runs"); do
    l0=$(load1); t0=$(now)
    "$py" "$here/python/kd_baseline.py" --teacher "$teacher" --student "$s" \
      --windows "$n_windows" --epochs "$epochs" --threads 1 --seed "$i" \
      --json "$dir/$i.json" >"$dir/$i.log" 2>&1
    t1=$(now)
    echo -e "$s\t$rep\tpython\t1\t$(secs "$t0" "$t1")\t$l0\t$(load1)" >>"$raw"
    echo "$s rep $rep python run $i: $(secs "$t0" "$t1") s"
  done
}

[[ -f "$raw" ]] || echo -e "student\trep\tside\truns\tseconds\tload_before\tload_after" >"$raw"
for rep in $(seq 1 "$reps"); do
  for s in $students; do
    case $(((rep + ${#s}) % 3)) in  # rotate the order of the three sides
      0) order="grouped per-process python" ;;
      1) order="per-process python grouped" ;;
      *) order="python grouped per-process" ;;
    esac
    for side in $order; do
      [[ " ${SIDES:-grouped per-process python} " == *" $side "* ]] || continue
      case $side in
        grouped) run_grouped "$s" "$rep" ;;
        per-process) run_per_process "$s" "$rep" ;;
        python) run_python "$s" "$rep" ;;
      esac
    done
  done
done

"$py" - "$raw" "$ppgkd" "$data" "$teacher" "$epochs" "$n_windows" >"$out/results.md" <<'EOF'
import csv, statistics, subprocess, sys
raw, ppgkd, data, teacher, epochs, n = sys.argv[1:]
rows = list(csv.DictReader(open(raw), delimiter="\t"))
def params(s):
    out = subprocess.run([ppgkd, "models"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == s:
            for tok in f:
                if tok.replace(",", "").isdigit():
                    return int(tok.replace(",", ""))
    return None
print(f"| student | params | grouped runs/h | per-process runs/h | PyTorch KD loop runs/h | grouped / PyTorch | grouped / per-process | loads (1-min) |")
print("|---|---:|---:|---:|---:|---:|---:|---|")
for s in dict.fromkeys(r["student"] for r in rows):
    rate = {}
    loads = []
    for side in ("grouped", "per-process", "python"):
        rs = [r for r in rows if r["student"] == s and r["side"] == side]
        loads += [r["load_before"] for r in rs]
        if side == "python":
            rate[side] = 3600 / statistics.median(float(r["seconds"]) for r in rs)
        else:
            rate[side] = statistics.median(3600 * int(r["runs"]) / float(r["seconds"]) for r in rs)
    p = params(s)
    print(f"| {s} | {p if p is not None else '?'} | {rate['grouped']:.0f} | {rate['per-process']:.0f} | "
          f"{rate['python']:.0f} | **{rate['grouped'] / rate['python']:.1f}x** | "
          f"{rate['grouped'] / rate['per-process']:.1f}x | {min(loads)}-{max(loads)} |")
print(f"\nData {data}, fold 0 of 4, {n} fit windows (seed 1), {epochs} epochs, batch 256, 1 thread; "
      f"teacher {teacher}.")
EOF
cat "$out/results.md"
