# A PyTorch replica of @onebit/train's single-thread trainer (trainable-model.ts, ste-quant.ts, adamw.ts,
# schedule.ts, batches.ts) for init / learning-rate sweeps on a GPU: the acceptance run's token rows
# (export-rows.ts), the same batch of every step, initWeights' random stream, the same AdamW, clipping, schedule and
# validation rows; float32 throughout (TF32 off). It reproduces the tfjs runs' validation perplexity to a few per
# cent (BENCHMARKS.md, Training); the numbers that decide anything are confirmed with `pnpm bench:train`.
#   python3 replica.py sweep-inits.json out.json [part parts]   — train every config (part i of n: i, i+n, …)
#   python3 replica.py --diag diag.json                         — residual-stream statistics at initialisation
# Data: REPLICA_DATA (default <repo>/.onebit-cache/replica, written by export-rows.ts).
import json, math, os, sys, time
import numpy as np
import torch
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
HERE = os.environ.get("REPLICA_DATA") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../.onebit-cache/replica")
DEV = "cuda" if torch.cuda.is_available() else "cpu"

SIZES = {
    "tiny": dict(vocab=1024, hidden=128, ffn=344, layers=4, heads=4, kv=2),
    "wide": dict(vocab=1024, hidden=256, ffn=688, layers=4, heads=4, kv=2),
    "small": dict(vocab=4096, hidden=320, ffn=864, layers=8, heads=8, kv=4),
}


def normal_stream(seed, sizes):
    """initWeights' xorshift32 + Box-Muller stream, one standard-normal array per (non-norm) tensor size."""
    s = (seed & 0xFFFFFFFF) or 0x9E3779B9
    out = []
    for n in sizes:
        a = np.empty(n + (n & 1), np.float64)
        for i in range(0, n, 2):
            s ^= (s << 13) & 0xFFFFFFFF
            s ^= s >> 17
            s ^= (s << 5) & 0xFFFFFFFF
            u1 = (s + 0.5) / 2**32
            s ^= (s << 13) & 0xFFFFFFFF
            s ^= s >> 17
            s ^= (s << 5) & 0xFFFFFFFF
            u2 = (s + 0.5) / 2**32
            r = math.sqrt(-2 * math.log(u1))
            th = 2 * math.pi * u2
            a[i] = r * math.cos(th)
            a[i + 1] = r * math.sin(th)
        out.append(a[:n])
    return out


def tensor_list(c, sub_norm):
    h, f, L = c["hidden"], c["ffn"], c["layers"]
    d = h // c["heads"]
    shapes = {"q": (c["heads"] * d, h), "k": (c["kv"] * d, h), "v": (c["kv"] * d, h), "o": (h, c["heads"] * d), "gate": (f, h), "up": (f, h), "down": (h, f)}
    lst = [("embed", (c["vocab"], h), "embedding")]
    for l in range(L):
        lst.append((f"{l}.in_norm", (h,), "norm"))
        for p in "q k v o".split():
            lst.append((f"{l}.{p}", shapes[p], p))
        if sub_norm:
            lst.append((f"{l}.attn_sub", (c["heads"] * d,), "norm"))
        lst.append((f"{l}.post_norm", (h,), "norm"))
        for p in "gate up down".split():
            lst.append((f"{l}.{p}", shapes[p], p))
        if sub_norm:
            lst.append((f"{l}.ffn_sub", (f,), "norm"))
    lst.append(("norm", (h,), "norm"))
    return lst


_STREAM_CACHE = {}


def init_weights(c, sub_norm, seed, init):
    """init: {std (0.02), embed_std, resid ("gpt2": o/down × 1/√(2·layers)), o_std, down_std, qkv_std, gateup_std,
    fan_in_gain (std = gain/√fan_in), sub_gain}; {} is the former initWeights (0.02 for every matrix)."""
    lst = tensor_list(c, sub_norm)
    key = (c["hidden"], c["layers"], c["vocab"], seed)
    if key not in _STREAM_CACHE:
        sizes = [int(np.prod(s)) for _, s, k in lst if k != "norm"]
        cache_file = os.path.join(HERE, f"stream-{c['hidden']}-{c['layers']}-{c['vocab']}-{seed}.npy")
        if os.path.exists(cache_file):
            flat = np.load(cache_file)
        else:
            flat = np.concatenate(normal_stream(seed, sizes))
            np.save(cache_file, flat)
        _STREAM_CACHE[key] = flat
    flat = _STREAM_CACHE[key]
    L = c["layers"]
    base = init.get("std", 0.02)
    out = {}
    off = 0
    for name, shape, kind in lst:
        n = int(np.prod(shape))
        if kind == "norm":
            g = 1.0
            if ("attn_sub" in name or "ffn_sub" in name) and "sub_gain" in init:
                g = init["sub_gain"]
            out[name] = torch.full(shape, g, dtype=torch.float32)
            continue
        z = flat[off : off + n]
        off += n
        if kind == "embedding":
            std = init.get("embed_std", base)
        else:
            std = init["fan_in_gain"] / math.sqrt(shape[1]) if "fan_in_gain" in init else base
            if kind in ("q", "k", "v") and "qkv_std" in init:
                std = init["qkv_std"]
            if kind in ("gate", "up") and "gateup_std" in init:
                std = init["gateup_std"]
            if kind in ("o", "down"):
                if init.get("resid") == "gpt2":
                    std = std / math.sqrt(2 * L)
                if kind == "o" and "o_std" in init:
                    std = init["o_std"]
                if kind == "down" and "down_std" in init:
                    std = init["down_std"]
        out[name] = torch.tensor((z * std).astype(np.float32).reshape(shape))
    return out


def ste(x, q):
    return x + (q - x).detach()


def quant_w(w, kind):
    if kind == "none":
        return w
    with torch.no_grad():
        if kind == "ternary":
            gamma = w.abs().mean()
            s = 1.0 / torch.clamp(gamma, min=1e-5)
            q = torch.round(w * s).clamp(-1, 1) / s
        else:  # binary
            alpha = w.mean()
            beta = w.abs().mean()
            q = torch.where(w - alpha > 0, beta, -beta)
    return ste(w, q)


def quant_a(x, kind, topk=0.5):
    if kind == "none":
        return x
    with torch.no_grad():
        v = x
        if kind == "int8-topk":
            n = v.shape[-1]
            k = max(1, math.ceil(topk * n - 1e-9))
            a = v.abs()
            kth = torch.topk(a, k, dim=-1).values[..., k - 1 : k]
            v = v * (a >= kth).float()
        if kind in ("int8", "int8-topk"):
            s = 127.0 / torch.clamp(v.abs().amax(-1, keepdim=True), min=1e-5)
            q = torch.round(v * s).clamp(-128, 127) / s
        elif kind == "int4":
            s = math.sqrt(7) / torch.clamp(v.abs().mean(-1, keepdim=True), min=1e-5)
            q = torch.round(v * s).clamp(-8, 7) / s
        elif kind == "absmax8":
            s = 128.0 / torch.clamp(v.abs().amax(-1, keepdim=True), min=1e-30)
            q = torch.round(v * s).clamp(-128, 127) / s
        else:
            raise ValueError(kind)
    return ste(x, q)


def linear_quant(variant, p, stage):
    if variant == "fp":
        return ("none", "none")
    if variant == "bitnet":
        return ("binary", "absmax8")
    if variant == "b1.58" or stage == 1:
        return ("ternary", "int8")
    if p == "o":
        return ("ternary", "int8-topk")
    if p == "down":
        return ("ternary", "int8")
    return ("ternary", "int4")


class Model:
    def __init__(self, cfg, params):
        self.cfg = cfg
        self.c = SIZES[cfg.get("size", "tiny")]
        self.p = {k: v.to(DEV).requires_grad_(True) for k, v in params.items()}
        self.stage = 1
        c = self.c
        d = c["hidden"] // c["heads"]
        self.d = d
        half = d // 2
        T = 64
        pos = torch.arange(T, dtype=torch.float64)[:, None]
        inv = torch.tensor([10000.0 ** (-2 * i / d) for i in range(half)], dtype=torch.float64)[None, :]
        ang = (pos * inv).float()  # float32 angles as Float32Array
        self.cos = ang.cos().to(DEV)[None, :, None, :]
        self.sin = ang.sin().to(DEV)[None, :, None, :]
        self.mask = torch.triu(torch.full((T, T), -1e9), 1).to(DEV)

    def rms(self, x, g):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * g

    def lin(self, x, l, p):
        wq, aq = linear_quant(self.cfg["variant"], p, self.stage)
        w = quant_w(self.p[f"{l}.{p}"], wq)
        return quant_a(x, aq) @ w.t()

    def rope(self, x):
        T = x.shape[1]
        x1, x2 = x.chunk(2, -1)
        c, s = self.cos[:, :T], self.sin[:, :T]
        return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], -1)

    def forward(self, ids):
        cfg, c, P = self.cfg, self.c, self.p
        B, T = ids.shape
        H, heads, kv, d = c["hidden"], c["heads"], c["kv"], self.d
        x = F.embedding(ids, P["embed"])
        sub = cfg.get("sub_norm", cfg["variant"] != "fp")
        attn_sub = cfg.get("attn_sub", sub)
        ffn_sub = cfg.get("ffn_sub", sub)
        act = cfg.get("act", "silu" if cfg["variant"] == "fp" else "relu2")
        for l in range(c["layers"]):
            h = self.rms(x, P[f"{l}.in_norm"])
            q = self.rope(self.lin(h, l, "q").view(B, T, heads, d)).transpose(1, 2)
            k = self.rope(self.lin(h, l, "k").view(B, T, kv, d)).transpose(1, 2)
            v = self.lin(h, l, "v").view(B, T, kv, d).transpose(1, 2)
            if heads != kv:
                k = k.repeat_interleave(heads // kv, 1)
                v = v.repeat_interleave(heads // kv, 1)
            sc = (q @ k.transpose(-1, -2)) / math.sqrt(d) + self.mask[:T, :T]
            att = (sc.softmax(-1) @ v).transpose(1, 2).reshape(B, T, heads * d)
            if attn_sub:
                att = self.rms(att, P[f"{l}.attn_sub"])
            x = x + self.lin(att, l, "o")
            f = self.rms(x, P[f"{l}.post_norm"])
            g = self.lin(f, l, "gate")
            a = F.relu(g).square() if act == "relu2" else F.silu(g)
            m = self.lin(f, l, "up") * a
            if ffn_sub:
                m = self.rms(m, P[f"{l}.ffn_sub"])
            x = x + self.lin(m, l, "down")
        out = self.rms(x, P["norm"])
        return out @ P["embed"].t()

    def loss(self, batch):
        logits = self.forward(batch[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))


def batch_rows(seed, step, bs, rows):
    s = (seed * 0x9E3779B1 + step * 0x85EBCA77 + 0x165667B1) % 2**32 or 1
    out = []
    for _ in range(bs):
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        out.append(s % rows)
    return out


def schedule(step, peak, total, warm, wd, kind="two-stage"):
    if step < warm:
        return peak * (step + 1) / warm, wd
    mid = total // 2

    def decay(frm):
        t = min(1, max(0, (step - warm) / max(1, total - warm)))
        return frm * (1 - 0.9 * t)

    if kind == "linear" or step < mid:
        return decay(peak), wd
    return decay(peak * 2 / 3), 0.0


def load_rows(name):
    a = np.fromfile(os.path.join(HERE, name), dtype=np.int32).reshape(-1, 65)
    return torch.tensor(a, dtype=torch.long, device=DEV)


def run(cfg, train_rows, val_rows):
    size = cfg.get("size", "tiny")
    c = SIZES[size]
    sub = cfg.get("sub_norm", cfg["variant"] != "fp")
    any_sub = cfg.get("attn_sub", sub) or cfg.get("ffn_sub", sub)
    seed = cfg.get("seed", 1)
    params = init_weights(c, any_sub, seed, cfg.get("init", {}))
    model = Model(cfg, params)
    steps = cfg.get("steps", 1200)
    bs = cfg.get("batch", 8)
    warm = cfg.get("warmup", min(375, steps // 10))
    lr = cfg["lr"]
    wd0 = cfg.get("wd", 0.1)
    stage2 = math.floor(steps * 0.95) if cfg["variant"].startswith("a4.8") else 10**9
    eval_every = max(1, steps // 6)
    names = list(model.p.keys())
    m = {n: torch.zeros_like(model.p[n]) for n in names}
    v = {n: torch.zeros_like(model.p[n]) for n in names}
    b1, b2, eps = 0.9, 0.95, 1e-8
    hist = []

    def evaluate():
        with torch.no_grad():
            tot = 0.0
            n = 0
            for b in range(16):
                if b * bs >= val_rows.shape[0]:
                    break
                rows = val_rows[b * bs : min((b + 1) * bs, val_rows.shape[0])]
                tot += model.loss(rows).item() * rows.shape[0]
                n += rows.shape[0]
            return tot / n

    t0 = time.time()
    nrows = train_rows.shape[0]
    for step in range(steps):
        model.stage = 2 if step >= stage2 else 1
        lr_t, wd = schedule(step, lr, steps, warm, wd0, cfg.get("schedule", "two-stage"))
        idx = torch.tensor(batch_rows(seed, step, bs, nrows), device=DEV)
        batch = train_rows[idx]
        loss = model.loss(batch)
        grads = torch.autograd.grad(loss, [model.p[n] for n in names], allow_unused=True)
        grads = [torch.zeros_like(model.p[n]) if g is None else g for n, g in zip(names, grads)]
        lv = loss.item()
        if not math.isfinite(lv):
            hist.append({"step": step + 1, "loss": lv})
            return {"cfg": cfg, "diverged": step + 1, "history": hist, "val_ppl": float("inf")}
        with torch.no_grad():
            norm = torch.sqrt(torch.stack([(g * g).sum() for g in grads]).sum())
            scale = torch.where(norm > 1.0, 1.0 / norm, torch.ones_like(norm))
            bc1 = 1 - b1 ** (step + 1)
            bc2 = 1 - b2 ** (step + 1)
            gs = torch._foreach_mul(list(grads), scale)
            ms = [m[n] for n in names]
            vs = [v[n] for n in names]
            ps = [model.p[n] for n in names]
            torch._foreach_mul_(ms, b1)
            torch._foreach_add_(ms, gs, alpha=1 - b1)
            torch._foreach_mul_(vs, b2)
            torch._foreach_addcmul_(vs, gs, gs, value=1 - b2)
            den = torch._foreach_div(vs, bc2)
            torch._foreach_sqrt_(den)
            torch._foreach_add_(den, eps)
            upd = torch._foreach_div(ms, bc1)
            torch._foreach_div_(upd, den)
            if wd > 0:
                two = [i for i, p in enumerate(ps) if p.dim() == 2]
                torch._foreach_add_([upd[i] for i in two], [ps[i] for i in two], alpha=wd)
            torch._foreach_add_(ps, upd, alpha=-lr_t)
        e = {"step": step + 1, "loss": lv}
        if (step + 1) % eval_every == 0:
            e["val"] = evaluate()
        hist.append(e)
    model.stage = 2 if stage2 < 10**9 else 1
    val = evaluate()
    extra = {}
    with torch.no_grad():
        for n in names:
            if n.endswith("attn_sub") or n.endswith("ffn_sub") or n == "embed" or n.endswith(".o") or n.endswith(".down"):
                extra[n] = float(model.p[n].pow(2).mean().sqrt())
    return {"cfg": cfg, "val_ppl": math.exp(val), "val_loss": val, "seconds": time.time() - t0,
            "history": [h for h in hist if "val" in h or h["step"] % 50 == 0], "rms": extra}


def diagnose(cfg, val_rows):
    """Residual-stream statistics at initialisation on the first 8 validation rows: the embedding's RMS, each
    branch's output RMS, and how alike the positions' final hidden states are (mean cosine over pairs of positions
    ≥ 8 apart within a sequence: 1 = every position carries the same vector, rank collapse)."""
    c = SIZES[cfg.get("size", "tiny")]
    sub = cfg.get("sub_norm", cfg["variant"] != "fp")
    any_sub = cfg.get("attn_sub", sub) or cfg.get("ffn_sub", sub)
    model = Model(cfg, init_weights(c, any_sub, cfg.get("seed", 1), cfg.get("init", {})))
    rec = {"attn": [], "ffn": []}
    orig_lin = model.lin

    def lin(x, l, p):
        y = orig_lin(x, l, p)
        if p == "o":
            rec["attn"].append(float(y.pow(2).mean().sqrt()))
        if p == "down":
            rec["ffn"].append(float(y.pow(2).mean().sqrt()))
        return y

    model.lin = lin
    ids = val_rows[:8, :-1]
    with torch.no_grad():
        P = model.p
        emb = F.embedding(ids, P["embed"])
        # final hidden state before the final norm: rerun forward pieces via a hook on the norm
        hs = {}
        orig_rms = model.rms

        def rms(x, g):
            if g is P["norm"]:
                hs["final"] = x
            return orig_rms(x, g)

        model.rms = rms
        logits = model.forward(ids)
        x = hs["final"]
        xn = F.normalize(x[:, 8:, :], dim=-1)
        cos = xn @ xn.transpose(1, 2)
        T = cos.shape[-1]
        mask = (torch.arange(T)[:, None] - torch.arange(T)[None, :]).abs().to(cos.device) >= 8
        en = F.normalize(emb[:, 8:, :], dim=-1)
        ecos = (en @ en.transpose(1, 2))[:, mask].mean()
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), val_rows[:8, 1:].reshape(-1))
    return {"name": cfg.get("name"), "embed_rms": float(emb.pow(2).mean().sqrt()), "attn_rms": rec["attn"], "ffn_rms": rec["ffn"],
            "final_rms": float(x.pow(2).mean().sqrt()), "pos_cos": float(cos[:, mask].mean()), "embed_pos_cos": float(ecos), "init_loss": float(loss)}


if __name__ == "__main__" and sys.argv[1] == "--diag":
    val_rows = load_rows("val.bin")
    for cfg in json.load(open(sys.argv[2])):
        print(json.dumps(diagnose(cfg, val_rows)), flush=True)
elif __name__ == "__main__":
    cfgs = json.load(open(sys.argv[1]))
    part, parts = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else (0, 1)
    out = sys.argv[2]
    train_rows, val_rows = load_rows("train.bin"), load_rows("val.bin")
    res = []
    for i, cfg in enumerate(cfgs):
        if i % parts != part:
            continue
        r = run(cfg, train_rows, val_rows)
        res.append(r)
        print(json.dumps({"name": cfg.get("name"), "val_ppl": r["val_ppl"], "sec": r.get("seconds")}), flush=True)
        json.dump(res, open(out, "w"))

