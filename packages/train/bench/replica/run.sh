#!/bin/bash
# usage: run.sh sweep-<name>.json parts out.json — `parts` replica processes share one GPU; merged results in out.json.
# Run `python3 sweeps.py` (sweep files) and export-rows.ts (data) first.
here="$(cd "$(dirname "$0")" && pwd)"
tmp=$(mktemp -d)
# initWeights' random streams first, once each (the processes would race writing the cache)
python3 -c "
import json, sys
sys.path.insert(0, '$here')
import replica
for z, s in sorted({(c.get('size', 'tiny'), c.get('seed', 1)) for c in json.load(open('$1'))}):
    replica.init_weights(replica.SIZES[z], True, s, {})
" || exit 1
for i in $(seq 0 $(($2 - 1))); do python3 "$here/replica.py" "$1" "$tmp/part$i.json" "$i" "$2" > "$tmp/log$i.txt" 2>&1 & done
wait
python3 -c "
import glob, json, sys
res = [r for f in sorted(glob.glob('$tmp/part*.json')) for r in json.load(open(f))]
json.dump(res, open(sys.argv[1], 'w'))
for r in sorted(res, key=lambda r: r['cfg']['name']): print(f\"{r['cfg']['name']:40s} {r['val_ppl']:8.2f}\")
" "$3"
