#!/usr/bin/env bash
# m4_ladder.sh — flash, RAM and instructions of every ladder rung on an emulated Cortex-M4.
#
# For each rung (ResNet r1..r9, MLP m1..m7, as `ppgkd models` lists them), each extra model spec
# (--spec, e.g. a sweep student that is not a rung) and each quantisation (f32, int8) the script
#   1. trains the rung for 1 epoch on the built-in synthetic data (sizes and instruction counts do
#      not depend on the weights) and exports it (`ppgkd export`; int8 calibrated on the same
#      synthetic data),
#   2. links two Cortex-M4 firmware images with the edge runtime and the generated model_data.c
#      compiled in as a const array, reusing edge/port/cortex_m4 (startup, SysTick counter,
#      mps2_an386.ld):
#        deploy.elf  ppgkd_init + ppgkd_run on a RAM window, nothing else (bench/m4_model_main.c
#                    with -DM4_DEPLOY): arm-none-eabi-size of it is the reported footprint;
#        bench.elf   runs the model on a few preprocessed windows under
#                    qemu-system-arm -M mps2-an386 -icount shift=0: instructions per ppgkd_run
#                    (SysTick, exact to +-40), stack high-water mark of ppgkd_run (painted stack),
#                    the outputs' bits,
#   3. builds the same bench main for the host with the host C compiler ($CC, default cc) and
#      checks that the M4's logits, BPM and confidence equal the host's bit for bit,
#   4. writes OUT/m4_ladder.csv and OUT/m4_ladder.md (`ppgkd report --edge-csv` joins the CSV to
#      a sweep's students by its canonical `spec` column).
# A --spec row is named by the spec as given (the `rung` column); its `spec` column is the
# canonical form from the trained model.json, as for the rungs.
# The windows are real recordings when they are there (--data, default ../shared/data next to the
# repository; dataset --dataset, default ieee_spc2015): `ppgkd eval` of the first rung's model on
# that dataset writes its window cache (OUT/real-cache), which bench/m4_windows.c reads. Without
# the data the windows come from the synthetic cache that training wrote, with a message saying
# so. Only the windows change; models, calibration and sizes stay synthetic-trained.
# A rung whose image exceeds the emulator's 4 MiB of flash or RAM is reported as "does not fit".
# Everything generated stays below OUT (keep it out of git). Rerunning with the same OUT reuses
# trained models, exports, object files and finished rows (--force re-measures the rows); rows
# are kept per window source and count (OUT/rows/<source>-w<N>/), so they never mix windows.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/m4_ladder.sh [options] PPGKD OUT_DIR

  PPGKD     the ppgkd binary (built with libtorch: it trains and exports)
  OUT_DIR   work and result directory (created); results: OUT_DIR/m4_ladder.csv, .md

options:
  --rungs "r1 m1 ..."  rungs to measure (default: every rung `PPGKD models` lists; "none": no
                       rung, only the --spec models)
  --spec SPEC          also measure this model spec (repeatable), e.g.
                       --spec "resnet1d:stem=6,stages=6-8-16-24-32,blocks=1,k=7"
  --quants "f32 int8"  quantisations (default: "f32 int8")
  --windows N          windows per model for the host/M4 comparison (default 3, at most 64)
  --data DIR           root of the real recordings; the windows come from DIR/DATASET
                       (default: ../shared/data next to the repository when it exists, else
                       the synthetic data, with a message); "synthetic": synthetic windows
  --dataset NAME       dataset folder below the --data root (default ieee_spc2015)
  --epochs N           training epochs per rung (default 1)
  --threads N          libtorch threads for train/export (default 1)
  --force              re-measure rows already in OUT_DIR (models and exports are still reused)
  -h, --help           this text

environment: CC (host C compiler, default cc), QEMU_TIMEOUT (seconds per qemu run, default 3600)
needs: arm-none-eabi-gcc (newlib, rdimon), arm-none-eabi-size, qemu-system-arm, a host C compiler
EOF
}

rungs="" quants="f32 int8" windows=3 epochs=1 threads=1 force=0 data="" dataset=ieee_spc2015
pos=() specs=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --rungs) rungs="${2:?--rungs needs a value}"; shift 2 ;;
    --quants) quants="${2:?--quants needs a value}"; shift 2 ;;
    --spec) specs+=("${2:?--spec needs a value}"); shift 2 ;;
    --windows) windows="${2:?--windows needs a value}"; shift 2 ;;
    --data) data="${2:?--data needs a value}"; shift 2 ;;
    --dataset) dataset="${2:?--dataset needs a value}"; shift 2 ;;
    --epochs) epochs="${2:?--epochs needs a value}"; shift 2 ;;
    --threads) threads="${2:?--threads needs a value}"; shift 2 ;;
    --force) force=1; shift ;;
    -*) echo "m4_ladder.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) pos+=("$1"); shift ;;
  esac
done
if [ "${#pos[@]}" -ne 2 ]; then usage >&2; exit 2; fi
for q in $quants; do
  case "$q" in f32 | int8) ;; *) echo "m4_ladder.sh: unknown quant '$q'" >&2; exit 2 ;; esac
done
case "$windows" in '' | *[!0-9]*) echo "m4_ladder.sh: --windows needs a number" >&2; exit 2 ;; esac

die() { echo "m4_ladder.sh: $*" >&2; exit 1; }
log() { echo "[m4_ladder $(date +%H:%M:%S)] $*" >&2; }

ppgkd="$(cd "$(dirname "${pos[0]}")" && pwd)/$(basename "${pos[0]}")"
[ -x "$ppgkd" ] || die "not an executable: ${pos[0]}"
mkdir -p "${pos[1]}"
out="$(cd "${pos[1]}" && pwd)"
repo="$(cd "$(dirname "$0")/.." && pwd)"
edge="$repo/edge"
bench="$repo/bench"
cc="${CC:-cc}"
for t in arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm "$cc"; do
  command -v "$t" >/dev/null || die "$t not found"
done

# Where the windows come from: real recordings (window_data = the dataset folder) or synthetic
# (window_data empty). An explicit --data DIR that is missing is an error, the default one is not.
window_data=""
if [ "$data" = synthetic ]; then
  log "windows: synthetic (--data synthetic)"
elif [ -z "$data" ] && [ ! -d "$repo/../shared/data/$dataset" ]; then
  log "NOTE: no real data at $repo/../shared/data/$dataset: the host/M4 comparison runs on" \
    "SYNTHETIC windows (pass --data DIR for real recordings)"
else
  [ -n "$data" ] || data="$repo/../shared/data"
  [ -d "$data/$dataset" ] || die "no dataset folder $data/$dataset (--data, --dataset)"
  window_data="$(cd "$data/$dataset" && pwd)"
  log "windows: real recordings from $window_data"
fi
# Windows, their objects and the rows measured on them live per source, so switching sources
# never mixes rows measured on different windows.
if [ -n "$window_data" ]; then window_tag="real-$(basename "$window_data")"; else window_tag=synthetic; fi
window_tag="$window_tag-w$windows"
wdir="$out/windows/$window_tag"
rowdir="$out/rows/$window_tag"

# The emulator's memory (edge/port/cortex_m4/mps2_an386.ld): 4 MiB flash, 4 MiB RAM. A blob
# larger than the flash cannot fit and is not compiled; anything else is decided by the linker.
mem_bytes=$((4 * 1024 * 1024))
m4_cflags=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -O2 -std=c99
  -ffp-contract=off -Wall -Wextra -Wpedantic -Werror -ffunction-sections -fdata-sections)
# shellcheck disable=SC2054 # -Wl,--gc-sections is one argument
m4_ldflags=(-T "$edge/port/cortex_m4/mps2_an386.ld" --specs=rdimon.specs -nostartfiles
  -Wl,--gc-sections)
host_cflags=(-O2 -std=c99 -ffp-contract=off -Wall -Wextra -Wpedantic -Werror)

# Ladder: "rung spec params macs" per line from `ppgkd models`.
ladder="$("$ppgkd" models | awk '$1 ~ /^[rm][0-9]+$/ { print $1, $2, $3, $4 }')"
[ -n "$ladder" ] || die "\`$ppgkd models\` listed no rungs"
if [ -z "$rungs" ]; then rungs="$(echo "$ladder" | awk '{ print $1 }' | tr '\n' ' ')"; fi
if [ "$rungs" = none ]; then rungs=""; fi
for r in $rungs; do
  echo "$ladder" | awk -v r="$r" '$1 == r { f = 1 } END { exit !f }' || die "unknown rung '$r'"
done
rung_field() { echo "$ladder" | awk -v r="$1" -v f="$2" '$1 == r { print $f }'; }
rung_of_spec() { echo "$ladder" | awk -v s="$1" '$2 == s { print $1 }'; } # canonical spec -> rung

# What to measure: ITEMS holds keys (file names below OUT): a rung's name, or for a --spec
# "spec-<the spec with [^A-Za-z0-9.-] as _>-<its cksum>". MODEL_ARG: what `ppgkd train --model`
# takes; NAME: the row's name (rung column), the rung or the spec as given.
declare -A model_arg=() name=()
items=()
for r in $rungs; do items+=("$r") model_arg[$r]="$r" name[$r]="$r"; done
for s in "${specs[@]}"; do
  case "$s" in *:*) ;; *) die "--spec '$s' is not a model spec (family:key=value,...)" ;; esac
  r="$(rung_of_spec "$s")"
  [ -z "$r" ] || die "--spec '$s' is rung $r (use --rungs)"
  k="spec-$(printf '%s' "$s" | tr -c 'A-Za-z0-9.-' '_')"
  k="$k-$(printf '%s' "$s" | cksum | awk '{ print $1 }')"
  [ -z "${name[$k]+x}" ] || die "--spec '$s' given twice"
  items+=("$k") model_arg[$k]="$s" name[$k]="$s"
done
[ "${#items[@]}" -gt 0 ] || die "nothing to measure (--rungs none and no --spec)"

group() { # 1234567 -> 1,234,567; empty -> -
  if [ -n "$1" ]; then echo "$1" | sed ':a; s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'; else echo -; fi
}

json_top() { # top-level integer field of a pretty-printed export.json or model.json
  sed -n "s/^  \"$2\": \\([0-9]*\\),\\{0,1\\}\$/\\1/p" "$1"
}

json_top_str() { # top-level string field (without escapes) of a pretty-printed model.json
  sed -n "s/^  \"$2\": \"\\([^\"\\\\]*\\)\",\\{0,1\\}\$/\\1/p" "$1"
}

mkdir -p "$out/models" "$out/export" "$out/fw" "$rowdir" "$out/obj/m4" "$out/obj/host" "$wdir"

# ---------------------------------------------------------------- runtime objects (once per run)
log "compiling the edge runtime for the Cortex-M4 and the host"
rt_sources=("$edge"/src/*.c "$edge"/src/ops/*.c)
m4_rt=() host_rt=()
for s in "${rt_sources[@]}" "$edge/port/cortex_m4/startup.c" "$edge/port/cortex_m4/port.c"; do
  o="$out/obj/m4/$(basename "$(dirname "$s")")_$(basename "${s%.c}").o"
  arm-none-eabi-gcc "${m4_cflags[@]}" -I"$edge/include" -c "$s" -o "$o"
  m4_rt+=("$o")
done
m4_rt_deploy=("${m4_rt[@]:0:${#m4_rt[@]}-1}") # without port.c (semihosting console, counter)
for s in "${rt_sources[@]}" "$edge/port/host/port.c"; do
  o="$out/obj/host/$(basename "$(dirname "$s")")_$(basename "${s%.c}").o"
  "$cc" "${host_cflags[@]}" -I"$edge/include" -c "$s" -o "$o"
  host_rt+=("$o")
done
"$cc" "${host_cflags[@]}" -o "$out/obj/host/m4_windows" "$bench/m4_windows.c" -lm

# ---------------------------------------------------------------- per rung
train_rung() { # rung -> model dir on stdout
  local r="$1" dir="$out/models/$1"
  if [ ! -f "$dir/fold-0/model.pt" ]; then
    log "$r: training ($epochs epoch(s), synthetic data, $threads thread(s))"
    rm -rf "$dir"
    "$ppgkd" train --data synthetic --model "${model_arg[$r]}" --folds 1 --epochs "$epochs" \
      --threads "$threads" --cache "$out/cache" --out "$dir" >"$out/models/$r.train.log" 2>&1 ||
      { tail -20 "$out/models/$r.train.log" >&2; die "$r: training failed"; }
  fi
  echo "$dir/fold-0"
}

export_rung() { # rung quant model_dir -> export dir on stdout
  local r="$1" q="$2" model="$3" dir="$out/export/$1-$2"
  # An export older than the binary is stale (its blob or arena size may differ): redo it.
  if [ ! -f "$dir/export.json" ] || [ ! -f "$dir/model_data.c" ] ||
    [ "$ppgkd" -nt "$dir/export.json" ]; then
    log "$r $q: exporting"
    local calib=()
    if [ "$q" = int8 ]; then calib=(--calib-data synthetic --cache "$out/cache"); fi
    "$ppgkd" export --model "$model" --out "$dir" --quant "$q" --threads "$threads" \
      "${calib[@]}" >"$out/export/$r-$q.log" 2>&1 ||
      { tail -20 "$out/export/$r-$q.log" >&2; die "$r $q: export failed"; }
  fi
  echo "$dir"
}

# The window cache to draw the windows from, on stdout: for real data, `ppgkd eval` of MODEL on
# the dataset writes it (preprocessed with MODEL's config, which every rung shares) and names its
# key; for synthetic data, the cache that training wrote.
window_cache() { # model_dir
  if [ -z "$window_data" ]; then
    local caches
    caches=("$out"/cache/windows-*.ppgcache)
    [ -f "${caches[0]}" ] || die "no window cache in $out/cache after training"
    [ "${#caches[@]}" -eq 1 ] || die "several window caches in $out/cache; expected the synthetic one"
    echo "${caches[0]}"
    return
  fi
  local key
  log "windows: caching $window_data (ppgkd eval --model $1)"
  "$ppgkd" eval --model "$1" --data "$window_data" --cache "$out/real-cache" \
    --threads "$threads" --out "$wdir/eval.json" >"$wdir/eval.log" 2>&1 ||
    { tail -20 "$wdir/eval.log" >&2; die "ppgkd eval on $window_data failed"; }
  key="$(sed -n 's/^  "data_key": "\([0-9a-f]*\)",\{0,1\}$/\1/p' "$wdir/eval.json")"
  [ -n "$key" ] || die "no data_key in $wdir/eval.json"
  [ -f "$out/real-cache/windows-$key.ppgcache" ] || die "ppgkd eval wrote no cache for key $key"
  echo "$out/real-cache/windows-$key.ppgcache"
}

windows_ready=0
make_windows() { # model_dir
  local cache
  cache="$(window_cache "$1")"
  {
    if [ -n "$window_data" ]; then
      echo "source: real recordings, $window_data (window cache $(basename "$cache"))"
    else
      echo "source: SYNTHETIC data (\`ppgkd train --data synthetic\` window cache)"
    fi
    "$out/obj/host/m4_windows" "$cache" "$windows" "$wdir/m4_windows.c" "$wdir/m4_windows.h"
  } >"$wdir/windows.txt" || die "bench/m4_windows could not take $windows windows from $cache"
  sed 's/^/  /' "$wdir/windows.txt" >&2
  arm-none-eabi-gcc "${m4_cflags[@]}" -c "$wdir/m4_windows.c" -o "$wdir/m4_windows.m4.o"
  "$cc" "${host_cflags[@]}" -c "$wdir/m4_windows.c" -o "$wdir/m4_windows.host.o"
  windows_ready=1
}

# link ELF OBJECTS... -> 0 linked; 1 does not fit (the reason in $fit_note, the image still
# written with --noinhibit-exec so it can be sized); dies on any other link error.
fit_note=""
link_m4() {
  local elf="$1" lg="${1%.elf}.link.log"
  shift
  fit_note=""
  if arm-none-eabi-gcc "${m4_cflags[@]}" "$@" "${m4_ldflags[@]}" -lm -o "$elf" >"$lg" 2>&1; then
    return 0
  fi
  if grep -q "overflowed" "$lg"; then
    fit_note="$(grep -o "region .[A-Z]*. overflowed by [0-9]* bytes" "$lg" | head -2 |
      sed "s/region .\([A-Z]*\). overflowed by \([0-9]*\) bytes/\1 overflowed by \2 B/" |
      paste -sd ';' | sed 's/;/; /g')"
    fit_note="$(echo "$fit_note" | sed ':a; s/\([0-9]\)\([0-9]\{3\}\)\($\|[^0-9]\)/\1,\2\3/; ta')"
    arm-none-eabi-gcc "${m4_cflags[@]}" "$@" "${m4_ldflags[@]}" -Wl,--noinhibit-exec -lm \
      -o "$elf" >/dev/null 2>&1 || true
    return 1
  fi
  cat "$lg" >&2
  die "link of $elf failed"
}

measure() { # item quant
  local r="$1" q="$2" spec params macs model exp fw row
  row="$rowdir/$r-$q.row"
  if [ "$force" = 0 ] && [ -f "$row" ]; then
    log "$r $q: row exists, reused (--force re-measures)"
    return
  fi
  model="$(train_rung "$r")"
  if [ "${model_arg[$r]}" = "$r" ]; then # a rung: as `ppgkd models` lists it
    spec="$(rung_field "$r" 2)" params="$(rung_field "$r" 3)" macs="$(rung_field "$r" 4)"
  else # a --spec: the canonical spec and sizes of the trained model
    spec="$(json_top_str "$model/model.json" spec)"
    params="$(json_top "$model/model.json" params)"
    macs="$(json_top "$model/model.json" macs_per_window)"
    if [ -z "$spec" ] || [ -z "$params" ] || [ -z "$macs" ]; then
      die "$r: cannot read spec, params and macs_per_window from $model/model.json"
    fi
    local same
    same="$(rung_of_spec "$spec")"
    [ -z "$same" ] || die "--spec '${name[$r]}' is rung $same ($spec; use --rungs)"
  fi
  [ "$windows_ready" = 1 ] || make_windows "$model"
  exp="$(export_rung "$r" "$q" "$model")"
  fw="$out/fw/$r-$q"
  mkdir -p "$fw"
  local blob weights arena text="" data="" bss="" fits=yes note="" stack="" painted=""
  local imean="" imin="" imax="" ipm="" logits_eq="" out_eq=""
  blob="$(json_top "$exp/export.json" blob_bytes)"
  weights="$(json_top "$exp/export.json" weight_bytes)"
  arena="$(json_top "$exp/export.json" arena_bytes)"
  if [ -z "$blob" ] || [ -z "$weights" ] || [ -z "$arena" ]; then
    die "$r $q: cannot read $exp/export.json"
  fi

  if [ "$blob" -gt "$mem_bytes" ]; then
    fits=no note="blob $(group "$blob") B > 4 MiB flash"
    log "$r $q: does not fit ($note); not compiled"
  else
    # Model data: the generated array, compiled once per export (large for big rungs).
    if [ ! -f "$fw/model_data.m4.o" ] || [ "$exp/model_data.c" -nt "$fw/model_data.m4.o" ]; then
      log "$r $q: compiling model_data.c ($blob B blob) for the M4"
      arm-none-eabi-gcc "${m4_cflags[@]}" -I"$edge/include" -c "$exp/model_data.c" -o "$fw/model_data.m4.o"
    fi
    local inc=(-I"$edge/include" -I"$exp" -I"$wdir")
    arm-none-eabi-gcc "${m4_cflags[@]}" "${inc[@]}" -DM4_DEPLOY -c "$bench/m4_model_main.c" \
      -o "$fw/deploy_main.o"
    arm-none-eabi-gcc "${m4_cflags[@]}" "${inc[@]}" -c "$bench/m4_model_main.c" \
      -o "$fw/bench_main.o"
    if ! link_m4 "$fw/deploy.elf" "$fw/deploy_main.o" "$fw/model_data.m4.o" "${m4_rt_deploy[@]}"; then
      fits=no note="$fit_note"
      log "$r $q: does not fit ($note)"
    fi
    if [ -f "$fw/deploy.elf" ]; then
      read -r text data bss _ < <(arm-none-eabi-size "$fw/deploy.elf" | awk 'NR == 2')
    fi
    if [ "$fits" = yes ]; then
      if ! link_m4 "$fw/bench.elf" "$fw/bench_main.o" "$fw/model_data.m4.o" \
        "$wdir/m4_windows.m4.o" "${m4_rt[@]}"; then
        fits=bench note="the benchmark image does not fit: $fit_note"
        log "$r $q: $note"
      fi
    fi
    if [ "$fits" = yes ]; then
      # The footprint image must run too: init + one inference, exit status through semihosting.
      timeout "${QEMU_TIMEOUT:-3600}" qemu-system-arm -M mps2-an386 -nographic \
        -semihosting-config enable=on,target=native -icount shift=0 -kernel "$fw/deploy.elf" \
        </dev/null >"$fw/deploy.qemu.log" 2>&1 || die "$r $q: the footprint image failed under qemu"
      log "$r $q: qemu (flash text $text B, arena $arena B, $macs MACs/window)"
      timeout "${QEMU_TIMEOUT:-3600}" qemu-system-arm -M mps2-an386 -nographic \
        -semihosting-config enable=on,target=native -icount shift=0 -kernel "$fw/bench.elf" \
        </dev/null >"$fw/qemu.log" 2>&1 || true
      grep -q '^M4B done' "$fw/qemu.log" || { tail -5 "$fw/qemu.log" >&2; die "$r $q: qemu run failed"; }
      grep -q '^M4B init 0 ' "$fw/qemu.log" || die "$r $q: ppgkd_init failed on the M4"

      log "$r $q: host run"
      if [ ! -f "$fw/model_data.host.o" ] || [ "$exp/model_data.c" -nt "$fw/model_data.host.o" ]; then
        "$cc" "${host_cflags[@]}" -I"$edge/include" -c "$exp/model_data.c" -o "$fw/model_data.host.o"
      fi
      "$cc" "${host_cflags[@]}" "${inc[@]}" -o "$fw/bench_host" "$bench/m4_model_main.c" \
        "$fw/model_data.host.o" "$wdir/m4_windows.host.o" "${host_rt[@]}" -lm
      "$fw/bench_host" >"$fw/host.log" || die "$r $q: host run failed"

      read -r imean imin imax < <(awk '$1 == "M4B" && $2 == "time" {
          n++; s += $4; if (n == 1 || $4 < lo) lo = $4; if (n == 1 || $4 > hi) hi = $4 }
        END { if (n) printf "%.0f %.0f %.0f\n", s / n, lo, hi }' "$fw/qemu.log") ||
        die "$r $q: no instruction counts in $fw/qemu.log"
      ipm="$(awk -v i="$imean" -v m="$macs" 'BEGIN { printf "%.2f", i / m }')"
      read -r stack painted < <(awk '$1 == "M4B" && $2 == "stack" { print $3, $5 }' \
        "$fw/qemu.log") || die "$r $q: no stack line in $fw/qemu.log"
      if [ "$stack" -ge "$painted" ]; then note="stack deeper than the $painted B painted"; fi
      local n_m4 n_eq
      n_m4="$(grep -c '^M4B logits ' "$fw/qemu.log")"
      n_eq="$(comm -12 <(grep '^M4B logits ' "$fw/qemu.log" | sort) \
        <(grep '^M4B logits ' "$fw/host.log" | sort) | wc -l)"
      logits_eq="$n_eq/$n_m4"
      n_eq="$(comm -12 <(grep '^M4B out ' "$fw/qemu.log" | sort) \
        <(grep '^M4B out ' "$fw/host.log" | sort) | wc -l)"
      out_eq="$n_eq/$(grep -c '^M4B out ' "$fw/qemu.log")"
      if [ "$n_eq" -lt "$n_m4" ]; then # how far apart: units in the last place of the floats
        local ulp=0 a b d
        while read -r _ a b; do
          d=$((16#$a - 16#$b)) && d=${d#-}
          if [ "$d" -gt "$ulp" ]; then ulp=$d; fi
        done < <(join <(awk '$2 == "out" { print $3, $7, $9 }' "$fw/qemu.log" | sort) \
          <(awk '$2 == "out" { print $3, $7, $9 }' "$fw/host.log" | sort) |
          awk '{ print $1, $2, $4; print $1, $3, $5 }')
        out_eq="$out_eq (max $ulp ulp)"
      fi
      log "$r $q: $imean instructions/inference ($ipm per MAC), stack $stack B," \
        "host = M4 bits: logits $logits_eq, BPM+confidence $out_eq"
    fi
  fi
  # One '|'-separated row (the spec holds commas; empty fields must survive `read`, which tabs
  # would not); the CSV quotes spec and note.
  printf '%s|' "${name[$r]}" "$spec" "$q" "$params" "$macs" "$weights" "$blob" "$arena" "$fits" \
    "$text" "$data" "$bss" "$stack" "$imean" "$imin" "$imax" "$ipm" "$logits_eq" "$out_eq" >"$row.tmp"
  printf '%s\n' "$note" >>"$row.tmp"
  mv "$row.tmp" "$row"
}

n_total=0
for r in "${items[@]}"; do for q in $quants; do n_total=$((n_total + 1)); done; done
i=0
for r in "${items[@]}"; do
  for q in $quants; do
    i=$((i + 1))
    log "[$i/$n_total] $r $q"
    measure "$r" "$q"
  done
done

# ---------------------------------------------------------------- CSV and Markdown
csv="$out/m4_ladder.csv" md="$out/m4_ladder.md"
rows() { for r in "${items[@]}"; do for q in $quants; do cat "$rowdir/$r-$q.row"; done; done; }
# One row per canonical spec and quantisation (a --spec may be a rung written differently).
dup="$(rows | awk -F'|' '{ k = $2 " " $3 }
  k in seen { print "\"" seen[k] "\" and \"" $1 "\" are both " k } { seen[k] = $1 }')"
[ -z "$dup" ] || die "the same model twice: $dup (drop the --spec)"
{
  echo "rung,spec,quant,params,macs,weight_bytes,blob_bytes,arena_bytes,fits,text,data,bss,stack_bytes,instr_per_inference,instr_min,instr_max,instr_per_mac,host_m4_logits_equal,host_m4_bpm_conf_equal,note"
  rows | awk -F'|' -v OFS=, '{ if ($1 ~ /,/) $1 = "\"" $1 "\""
    $2 = "\"" $2 "\""; $20 = "\"" $20 "\""; print }'
} >"$csv"

{
  echo "Cortex-M4 under \`qemu-system-arm -M mps2-an386 -icount shift=0\`; runtime and model built with"
  echo "\`arm-none-eabi-gcc ${m4_cflags[*]}\`."
  echo "text/data/bss: \`arm-none-eabi-size\` of an image with only startup, the runtime (ppgkd_init,"
  echo "ppgkd_run), the model blob as a const array (flash = text + data), its arena and one input"
  echo "window in RAM (bss). Stack: high-water mark of ppgkd_run on a painted stack. Instructions:"
  echo "ppgkd_run (forward pass + decoding), mean of the $windows windows below, SysTick under"
  echo "-icount (+-40). host = M4: windows whose logits / BPM and confidence bits equal the host"
  echo "build's (\`$cc ${host_cflags[*]}\`). Weights from 1-epoch synthetic training (values do not"
  echo "change sizes or instruction counts); int8 calibrated on synthetic data."
  if [ -f "$wdir/windows.txt" ]; then
    echo "Windows (preprocessed, standardised model inputs, from a ppgkd window cache):"
    sed 's/^/- /' "$wdir/windows.txt"
  fi
  echo
  echo "| rung | quant | params | MACs | weight B | blob B | text B | data B | bss B | arena B | stack B | arena + stack B | instructions / inference | instr / MAC | host = M4: logits | host = M4: BPM, conf |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
  rows | while IFS='|' read -r r spec q params macs weights blob arena fits text data bss stack \
    imean imin imax ipm leq oeq note; do
    if [ "$fits" = yes ]; then
      echo "| $r | $q | $(group "$params") | $(group "$macs") | $(group "$weights") | $(group "$blob") | $(group "$text") | $(group "$data") | $(group "$bss") | $(group "$arena") | $(group "$stack") | $(group $((arena + stack))) | $(group "$imean") | $ipm | $leq | $oeq |"
    else
      echo "| $r | $q | $(group "$params") | $(group "$macs") | $(group "$weights") | $(group "$blob") | $(group "$text") | $(group "$data") | $(group "$bss") | $(group "$arena") | - | - | does not fit: $note | - | - | - |"
    fi
  done
} >"$md"

log "wrote $csv and $md"
cat "$md"
# int8 logits must match bit for bit, and so must BPM and confidence wherever the logits do
# (decoding uses no libm: the same logits give the same bits): fail when they do not.
if awk -F'|' '$3 == "int8" && $9 == "yes" { split($18, a, "/"); if (a[1] != a[2]) bad = 1 }
  END { exit !bad }' <(rows); then
  die "int8 logits differ between host and M4 (see $csv)"
fi
if awk -F'|' '$9 == "yes" { split($18, a, "/"); split($19, b, "[/ ]"); if (b[1] < a[1]) bad = 1 }
  END { exit !bad }' <(rows); then
  die "BPM or confidence differ between host and M4 on windows with equal logits (see $csv)"
fi
