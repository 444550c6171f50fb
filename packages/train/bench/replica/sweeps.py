# The configurations of the replica sweeps behind BENCHMARKS.md "Training" (each run: the acceptance data, tiny
# shape unless `size`, seed 1 unless `seed`, 1200 steps unless `steps`, warm-up min(375, steps/10), two-stage
# schedule, AdamW (0.9, 0.95), weight decay 0.1). `python3 sweeps.py` writes sweep-<name>.json for run.sh and
# diag.json for `replica.py --diag`.
#
# init keys (replica.py init_weights): std (0.02), embed_std, resid "gpt2" (o/down × 1/√(2·layers)), o_std,
# down_std, fan_in_gain (std = gain/√fan_in for every projection). {} is the former initWeights (0.02 everywhere);
# G = {"resid": "gpt2", "embed_std": 1/√hidden} is the new default.
import json
import math

E = 1 / math.sqrt(128)
G = {"resid": "gpt2", "embed_std": E}
ONEBIT_BLOCK = {"act": "relu2", "sub_norm": True}
sweeps = {}


def lr_name(x):
    m, e = f"{x:.2e}".split("e")
    return f"{m.rstrip('0').rstrip('.')}e{int(e)}"


def sweep(name):
    runs = []
    sweeps[name] = runs

    def add(run_name, variant, lr, init=None, **kw):
        runs.append(dict(name=run_name, variant=variant, lr=lr, init={} if init is None else init, **kw))

    return add


# 1. init candidates × three models at the acceptance budget, block decomposition, replica check at 400 steps
add = sweep("inits")
add("base400/fp", "fp", 3e-3, steps=400)
add("base400/b1.58", "b1.58", 5e-3, steps=400)
add("gpt2-400/fp", "fp", 3e-3, {"resid": "gpt2"}, steps=400)
add("gpt2-400/b1.58", "b1.58", 5e-3, {"resid": "gpt2"}, steps=400)
inits = {
    "base": {},
    "gpt2": {"resid": "gpt2"},
    "emb088": {"embed_std": E},
    "emb1": {"embed_std": 1.0},
    "gpt2+emb088": G,
    "zero-od": {"o_std": 0.0, "down_std": 0.0},
    "fanin+emb1+gpt2": {"fan_in_gain": 1.0, "embed_std": 1.0, "resid": "gpt2"},
    "fanin+emb088+gpt2": {"fan_in_gain": 1.0, "embed_std": E, "resid": "gpt2"},
}
for iname, init in inits.items():
    add(f"{iname}/fp", "fp", 3e-3, init)
    add(f"{iname}/b1.58", "b1.58", 5e-3, init)
    add(f"{iname}/fp-1bitblock", "fp", 3e-3, init, **ONEBIT_BLOCK)
add("base/fp-swiglu+subln", "fp", 3e-3, act="silu", sub_norm=True)
add("base/fp-relu2-nosub", "fp", 3e-3, act="relu2", sub_norm=False)
add("base/fp-swiglu+attnsub", "fp", 3e-3, act="silu", attn_sub=True, ffn_sub=False)
add("base/fp-swiglu+ffnsub", "fp", 3e-3, act="silu", attn_sub=False, ffn_sub=True)
add("base/b1.58-nosub", "b1.58", 5e-3, sub_norm=False)

# 2. around G: learning rates, warm-up, seeds, embedding std, residual scale, the other 1-bit variants
add = sweep("around-G")
for lr in (2e-3, 4e-3, 5e-3, 8e-3):
    add(f"G/fp@{lr_name(lr)}", "fp", lr, G)
for lr in (3e-3, 4e-3, 6e-3, 8e-3, 1.2e-2, 2e-2):
    add(f"G/b1.58@{lr_name(lr)}", "b1.58", lr, G)
add("G/bitnet@3e-3", "bitnet", 3e-3, G)
add("G/bitnet@5e-3", "bitnet", 5e-3, G)
add("G/bitnet@8e-3", "bitnet", 8e-3, G)
add("G/a4.8@5e-3", "a4.8", 5e-3, G)
add("G/a4.8@5e-3-seed2", "a4.8", 5e-3, G, seed=2)
add("G/bitnet@5e-3-seed2", "bitnet", 5e-3, G, seed=2)
for e in (0.044, 0.177, 0.354):
    add(f"gpt2+emb{e}/fp", "fp", 3e-3, {"resid": "gpt2", "embed_std": e})
    add(f"gpt2+emb{e}/b1.58", "b1.58", 5e-3, {"resid": "gpt2", "embed_std": e})
for name, r in (("r0.125", 0.125), ("r0", 0.0)):
    add(f"{name}+emb088/fp", "fp", 3e-3, {"o_std": 0.02 * r, "down_std": 0.02 * r, "embed_std": E})
    add(f"{name}+emb088/b1.58", "b1.58", 5e-3, {"o_std": 0.02 * r, "down_std": 0.02 * r, "embed_std": E})
add("oonly+emb088/fp", "fp", 3e-3, {"o_std": 0.02 / math.sqrt(8), "embed_std": E})
add("oonly+emb088/b1.58", "b1.58", 5e-3, {"o_std": 0.02 / math.sqrt(8), "embed_std": E})
for w in (375, 60):
    add(f"G/fp-warm{w}", "fp", 3e-3, G, warmup=w)
    add(f"G/b1.58-warm{w}", "b1.58", 5e-3, G, warmup=w)
for seed in (2, 3):
    add(f"G/fp-seed{seed}", "fp", 3e-3, G, seed=seed)
    add(f"G/b1.58-seed{seed}", "b1.58", 5e-3, G, seed=seed)
    add(f"base/fp-seed{seed}", "fp", 3e-3, seed=seed)
    add(f"base/b1.58-seed{seed}", "b1.58", 5e-3, seed=seed)
add("G1200/fp@4.5e-3-seed2", "fp", 4.5e-3, G, seed=2)
add("G/fp-swiglu+attnsub", "fp", 3e-3, G, act="silu", attn_sub=True, ffn_sub=False)
add("G/fp-swiglu+subln", "fp", 3e-3, G, act="silu", sub_norm=True)
add("G/b1.58-swiglu", "b1.58", 5e-3, G, act="silu")

# 3. other budgets (400-step schedule; 2400 and 3000 steps ≈ 16 and 20 minutes a model on the 2-core machine)
add = sweep("budgets")
for seed in (1, 2):
    add(f"G400/fp{'-seed2' if seed == 2 else ''}", "fp", 3e-3, G, steps=400, seed=seed)
    add(f"G400/b1.58{'-seed2' if seed == 2 else ''}", "b1.58", 5e-3, G, steps=400, seed=seed)
for steps in (2400, 3000):
    for tag, init in (("G", G), ("base", {})):
        add(f"{tag}{steps}/fp", "fp", 3e-3, init, steps=steps)
        add(f"{tag}{steps}/b1.58", "b1.58", 5e-3, init, steps=steps)
add("G2400/bitnet", "bitnet", 5e-3, G, steps=2400)
add("G2400/a4.8", "a4.8", 5e-3, G, steps=2400)
for seed in (2, 3):
    add(f"G3000/fp-seed{seed}", "fp", 3e-3, G, steps=3000, seed=seed)
    add(f"G3000/b1.58-seed{seed}", "b1.58", 5e-3, G, steps=3000, seed=seed)
for lr in (2e-3, 4.5e-3, 6e-3, 8e-3):
    add(f"G3000/fp@{lr_name(lr)}", "fp", lr, G, steps=3000)
add("G3000/fp@4.5e-3-seed2", "fp", 4.5e-3, G, steps=3000, seed=2)
for lr in (4e-3, 7e-3, 1e-2):
    add(f"G3000/b1.58@{lr_name(lr)}", "b1.58", lr, G, steps=3000)
add("G3000/b1.58@6e-3-seed2", "b1.58", 6e-3, G, steps=3000, seed=2)
add("G3000/bitnet", "bitnet", 5e-3, G, steps=3000)
add("G3000/bitnet@3e-3", "bitnet", 3e-3, G, steps=3000)
add("G3000/a4.8", "a4.8", 5e-3, G, steps=3000)
add("base3000/fp-seed2", "fp", 3e-3, steps=3000, seed=2)
add("base3000/b1.58-seed2", "b1.58", 5e-3, steps=3000, seed=2)
add("base3000/fp@4.5e-3", "fp", 4.5e-3, steps=3000)
add("base3000/b1.58@4e-3", "b1.58", 4e-3, steps=3000)
add("gpt2-3000/fp@4.5e-3", "fp", 4.5e-3, {"resid": "gpt2"}, steps=3000)

# 4. a wider shape: hidden 256, FFN 688 (3.2 M parameters), G's embedding std 1/√256
add = sweep("wide")
W = {"resid": "gpt2", "embed_std": 1 / 16}
for tag, init in (("base", {}), ("G", W)):
    add(f"wide-{tag}/fp", "fp", 3e-3, init, size="wide")
    add(f"wide-{tag}/b1.58", "b1.58", 5e-3, init, size="wide")
add("wide-G/fp-seed2", "fp", 3e-3, W, size="wide", seed=2)
add("wide-G/b1.58-seed2", "b1.58", 5e-3, W, size="wide", seed=2)
add("wide-G/b1.58@3e-3", "b1.58", 3e-3, W, size="wide")
add("wide-G/b1.58@8e-3", "b1.58", 8e-3, W, size="wide")

# residual-stream statistics at initialisation (replica.py --diag)
diag = []
for name, init in (("base", {}), ("gpt2", {"resid": "gpt2"}), ("emb088", {"embed_std": E}), ("G", G), ("zero-od", {"o_std": 0.0, "down_std": 0.0})):
    for tag, v, kw in (("fp", "fp", {}), ("b1.58", "b1.58", {}), ("fp-1bitblock", "fp", ONEBIT_BLOCK),
                       ("fp-attnsub", "fp", {"act": "silu", "attn_sub": True, "ffn_sub": False}),
                       ("fp-ffnsub", "fp", {"act": "silu", "attn_sub": False, "ffn_sub": True})):
        diag.append(dict(name=f"{name}/{tag}", variant=v, lr=0, init=init, **kw))

if __name__ == "__main__":
    json.dump(diag, open("diag.json", "w"))
    for k, v in sweeps.items():
        json.dump(v, open(f"sweep-{k}.json", "w"))
    print({k: len(v) for k, v in sweeps.items()}, len(diag), "diagnostics")
