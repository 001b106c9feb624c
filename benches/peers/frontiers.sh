#!/usr/bin/env bash
# Side-by-side timing of the frontier and gather-list apps (BFS, components, k-core,
# triangles) against gapbs and Ligra on one symmetric graph, alternating the programs in
# every round; prints one line per run and the medians.
#
#   GASKET=target/release/gasket GAPBS=DIR LIGRA=DIR ROUNDS=5 THREADS=2 APPS="bfs cc kcore tc" \
#     benches/peers/frontiers.sh GRAPH.gsk GRAPH.sg GRAPH.adj [SOURCE]
#
# GRAPH.gsk: `gasket convert` of a symmetric edge list (both directions of every edge, no
# self-loops or duplicates); GRAPH.sg: gapbs's `converter -s -b` of the same list;
# GRAPH.adj: Ligra's `utils/SNAPtoAdj` of it. gapbs and Ligra are built from their own
# repositories (gapbs: `make`; Ligra: `cd apps && OPENMP=1 make`), outside this tree.
# gasket's figure is the engine's run time from its headline (graph loading excluded, as
# the peers' per-trial times exclude it); the peers' figures are their per-trial times.
set -euo pipefail
gsk=$1 sg=$2 adj=$3 source=${4:-0}
: "${GASKET:?set GASKET to the gasket binary}" "${GAPBS:?set GAPBS}" "${LIGRA:?set LIGRA}"
rounds=${ROUNDS:-5}
apps=" ${APPS:-bfs cc kcore tc} "
threads=${THREADS:-2}
export OMP_NUM_THREADS=$threads CILK_NWORKERS=$threads
out=$(mktemp -d)

gasket_time() { # the run time in gasket's headline: "...; N superstep(s), ...; 0.123s"
  "$GASKET" "$@" --threads "$threads" 2>/dev/null | awk -F'; ' '/^# /{print $NF; exit}' | tr -d s
}
peer_time() { # the median of a peer's per-trial times (gapbs "Trial Time:", Ligra "Running time :")
  "$@" 2>&1 | awk '/Trial Time:|Running time :/{print $NF}' | sort -g |
    awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'
}

wanted() { [[ $apps == *" $1 "* ]]; }

for ((r = 1; r <= rounds; r++)); do
  if wanted bfs; then
    echo "gasket_bfs $(gasket_time sssp --input "$gsk" --source "$source" -q)" | tee -a "$out/all"
    echo "gapbs_bfs $(peer_time "$GAPBS/bfs" -f "$sg" -n 3 -r "$source")" | tee -a "$out/all"
    echo "ligra_bfs $(peer_time "$LIGRA/apps/BFS" -s -rounds 3 -r "$source" "$adj")" | tee -a "$out/all"
  fi
  if wanted cc; then
    echo "gasket_cc $(gasket_time cc --input "$gsk" -q)" | tee -a "$out/all"
    echo "ligra_cc $(peer_time "$LIGRA/apps/Components" -s -rounds 3 "$adj")" | tee -a "$out/all"
    echo "gapbs_cc $(peer_time "$GAPBS/cc" -f "$sg" -n 3)" | tee -a "$out/all"
  fi
  if wanted kcore; then
    echo "gasket_kcore $(gasket_time kcore --input "$gsk" -q)" | tee -a "$out/all"
    echo "ligra_kcore $(peer_time "$LIGRA/apps/KCore" -s -rounds 1 "$adj")" | tee -a "$out/all"
  fi
  if wanted tc; then # the total only, as the peers count it
    echo "gasket_tc $(gasket_time triangles --input "$gsk" -q)" | tee -a "$out/all"
    echo "ligra_tc $(peer_time "$LIGRA/apps/Triangle" -s -rounds 1 "$adj")" | tee -a "$out/all"
    echo "gapbs_tc $(peer_time "$GAPBS/tc" -f "$sg" -n 1)" | tee -a "$out/all"
  fi
done
echo "== medians over $rounds rounds (seconds)"
for name in $(awk '{print $1}' "$out/all" | sort -u); do
  awk -v n="$name" '$1 == n {print $2}' "$out/all" | sort -g |
    awk -v n="$name" '{a[NR]=$1} END{printf "%-12s %s\n", n, a[int((NR+1)/2)]}'
done
rm -r "$out"
