/**
 * AdamW (decoupled weight decay, Loshchilov & Hutter) with global-norm gradient clipping. β = (0.9, 0.95) as the
 * b1.58 recipe. Weight decay applies to matrices only (not norm gains). The state is exposed so checkpoints can
 * save it and the a4.8 stage switch can keep it.
 */
import { tf } from "./tf-backend";

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  clipNorm?: number;
  /**
   * A learning-rate multiplier per parameter name (default 1): what a μP-style width rule needs (Tensor Programs V,
   * arXiv 2203.03466, Table 3: with Adam, hidden matrices take lr ∝ 1/fan-in; vectors and the embedding keep it).
   */
  lrMultiplier?: (name: string) => number;
}

export class AdamW {
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();
  step = 0;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly clipNorm: number;
  private readonly lrMultiplier?: (name: string) => number;

  constructor(options: AdamWOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.95;
    this.eps = options.eps ?? 1e-8;
    this.clipNorm = options.clipNorm ?? 1.0;
    this.lrMultiplier = options.lrMultiplier;
  }

  /** Apply one update; returns the gradient norm before clipping. */
  /**
   * `globalSquaredNorm` (tensor-parallel shards): turns this shard's squared gradient norms, split into sharded
   * and replicated parameters, into the whole model's squared norm (the peers' sharded parts added, replicated
   * parts counted once), so every shard clips by the same factor.
   */
  apply(
    variables: Map<string, tf.Variable>,
    grads: Record<string, tf.Tensor>,
    lr: number,
    weightDecay: number,
    globalSquaredNorm?: { isSharded(name: string): boolean; reduce(sharded: number, replicated: number): number },
  ): number {
    this.step++;
    const names = Object.keys(grads);
    const sq = (ns: string[]) => (ns.length === 0 ? 0 : tf.tidy(() => tf.addN(ns.map((n) => grads[n]!.square().sum())).dataSync()[0]!));
    const norm = globalSquaredNorm
      ? Math.sqrt(globalSquaredNorm.reduce(sq(names.filter((n) => globalSquaredNorm.isSharded(n))), sq(names.filter((n) => !globalSquaredNorm.isSharded(n)))))
      : Math.sqrt(sq(names));
    const scale = this.clipNorm > 0 && norm > this.clipNorm ? this.clipNorm / norm : 1;
    const bc1 = 1 - this.beta1 ** this.step;
    const bc2 = 1 - this.beta2 ** this.step;
    for (const name of names) {
      const p = variables.get(name)!;
      if (!this.m.has(name)) {
        this.m.set(name, tf.variable(tf.zerosLike(p), false));
        this.v.set(name, tf.variable(tf.zerosLike(p), false));
      }
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      const rate = lr * (this.lrMultiplier?.(name) ?? 1);
      tf.tidy(() => {
        const g = grads[name]!.mul(scale);
        m.assign(m.mul(this.beta1).add(g.mul(1 - this.beta1)));
        v.assign(v.mul(this.beta2).add(g.square().mul(1 - this.beta2)));
        const update = m.div(bc1).div(v.div(bc2).sqrt().add(this.eps));
        const decay = p.rank === 2 && weightDecay > 0 ? p.mul(weightDecay) : tf.zerosLike(p);
        p.assign(p.sub(update.add(decay).mul(rate)));
      });
    }
    return norm;
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
    this.m.clear();
    this.v.clear();
  }
}
