#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, one after another, seeding each corpus
# with a few small valid inputs. Usage (from the repository root):
#   fuzz/campaign.sh [SECONDS_PER_TARGET=600] [TARGET...]
# cargo-fuzz needs nightly compiler flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain
# accept them. Crashes land in fuzz/artifacts/<target>/; the last line of each log says
# how many runs were done.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(snap metis mtx uci ldac text_corpus idx libsvm dense_csv partition_file checkpoint gsk
    mlp_model mlp_net lda_model vocab stop_words)
fi

seed() {
  local dir=corpus/$1
  mkdir -p "$dir"
  [ -n "$(ls -A "$dir")" ] && return
  case $1 in
    snap) printf '# comment\n1\t2\n2 3\n3\t1\n' > "$dir/a" ;;
    metis) printf '3 3\n2 3\n1 3\n1 2\n' > "$dir/a"; printf '% c\n3 2 011 1\n1 2 5\n1 3 1\n2 2 7\n' > "$dir/b" ;;
    mtx) printf '%%%%MatrixMarket matrix coordinate real general\n3 3 2\n1 2 0.5\n3 1 2\n' > "$dir/a" ;;
    uci) printf '2\n3\n3\n1 1 2\n1 3 1\n2 2 4\n' > "$dir/a" ;;
    ldac) printf '2 0:1 2:3\n1 1:2\n' > "$dir/a" ;;
    text_corpus) printf 'the cat sat\non the mat\n' > "$dir/a" ;;
    idx) printf '\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x02\x01\x02\x03\x04' > "$dir/a" ;;
    libsvm) printf '1 1:0.5 3:1\n-1 2:2\n' > "$dir/a" ;;
    dense_csv) printf 'label,a,b\n0,1.5,2\n1,3,4\n' > "$dir/a" ;;
    partition_file) printf '\x02%s' "$(printf '0\n1\n%.0s' {1..8})" > "$dir/a" ;;
    checkpoint) printf '\x20\x10gasket checkpoint 1\nprogram p\niteratio' > "$dir/a" ;;
    # A 3-vertex cycle as `gasket convert` writes it.
    gsk) printf '\x47\x53\x4b\x47\x52\x41\x50\x48\x02\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x87\x8d\xcb\x2b\x0a\x12\x00\x91\x7d\x8d\x55\xa2\x00\x00\x00\x00\x0a\x12\x00\x91\x95\x3f\x52\x2f\x00\x00\x00\x00\x21\x83\xf5\x36\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00' > "$dir/a" ;;
    # A 2-2-2 network with a skip edge, trained for one epoch and saved by `gasket mlp --save`.
    mlp_model) printf '%s\n' '{"format":"gasket-mlp","version":1,"layers":[{"name":"input","width":2,"activation":"linear","inputs":[]},{"name":"h","width":2,"activation":"tanh","inputs":["input"]},{"name":"out","width":2,"activation":"linear","inputs":["h","input"]}],"blocks":[[0.37552518,0.4039479,-0.13055992,0.8270418],[-0.000999998,-0.0009986692],[0.6973521,0.01894727,0.79885316,0.8018638],[-0.2523717,-0.36137038,-0.37247726,-0.37161595],[-0.0009999999,0.001]]}' > "$dir/a" ;;
    mlp_net) printf '# name width activation inputs\ninput 2 - -\nh 2 tanh input\nout 2 linear h,input\n' > "$dir/a" ;;
    # Two topics over a 7-word text corpus, as `gasket lda --output` writes model.txt.
    lda_model) printf 'gasket-lda-model 1\ntopics 2\nwords 7\nalpha 0.1\nbeta 0.01\ncat\t1:2\nsat\t1:1\non\t1:1\nmat\t1:1\ndog\t0:2\nate\t0:1\nbone\t0:1\n' > "$dir/a" ;;
    vocab) printf 'cat\ndog\nmat\n' > "$dir/a" ;;
    stop_words) printf 'the\na\n# articles\n\nAnd\n' > "$dir/a" ;;
  esac
}

for t in "${targets[@]}"; do
  seed "$t"
  echo "== $t: ${seconds}s"
  RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 \
    > "logs-$t.txt" 2>&1 || echo "!! $t stopped with a failure: see fuzz/logs-$t.txt"
  grep -E '^Done|stat::number_of_executed_units|crash|panicked' "logs-$t.txt" | tail -3 || true
done
