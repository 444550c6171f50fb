/**
 * Seeded structural mutations of a JSON value (for fuzz targets): a random node anywhere in the tree is replaced
 * by a value of another type or an extreme one, deleted, duplicated, emptied or deeply nested. Mutating the
 * structure, not the bytes, gets past JSON.parse and reaches the validation behind it, where the deep TypeErrors
 * live (`x.length` of a number, `Object.keys` of null, a string where an array was expected).
 */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const POOL: Json[] = [null, true, false, 0, -1, 1, 2, 3, 0.5, -0.5, 1e308, -1e308, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, "", "x", "0", "NaN", "\u0000", "é日本", [], [0], [null], ["a", "b"], [[1, 2]], {}, { a: 1 }, { __proto__: null, length: 5 } as Json];

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function deep(n: number): Json {
  let v: Json = 1;
  for (let i = 0; i < n; i++) v = [v];
  return v;
}

/** One random container's slot: its parent and key (or undefined: the root). */
function pickSlot(root: Json, rand: () => number): { parent: Json[] | Record<string, Json>; key: string | number } | undefined {
  let node = root;
  let slot: { parent: Json[] | Record<string, Json>; key: string | number } | undefined;
  for (let depth = 0; depth < 12; depth++) {
    if (node === null || typeof node !== "object") break;
    const keys: Array<string | number> = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[Math.floor(rand() * keys.length)]!;
    slot = { parent: node, key };
    node = (node as Record<string | number, Json>)[key]!;
    // stop early sometimes so shallow fields are hit as often as deep ones
    if (rand() < 0.3) break;
  }
  return slot;
}

/** 1–3 mutations of a copy of `value`; `what` lists them. */
export function mutateJson(value: unknown, rand: () => number): { value: unknown; what: string } {
  let root = clone(value) as Json;
  const what: string[] = [];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  for (let s = 1 + Math.floor(rand() * 3); s > 0; s--) {
    const slot = pickSlot(root, rand);
    if (!slot || rand() < 0.02) {
      root = pick(POOL);
      what.push(`root = ${JSON.stringify(root)}`);
      continue;
    }
    const { parent, key } = slot;
    const p = parent as Record<string | number, Json>;
    const old = p[key]!;
    const op = Math.floor(rand() * 9);
    const at = `${String(key)}`;
    if (op <= 2) {
      p[key] = clone(pick(POOL));
      what.push(`${at} = ${JSON.stringify(p[key]).slice(0, 40)}`);
    } else if (op === 3) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete p[key];
      what.push(`delete ${at}`);
    } else if (op === 4 && typeof old === "number") {
      p[key] = pick([-old, old + 1, old - 1, old * 2, old * 1e6, old + 0.5, 0, -0]);
      what.push(`${at}: ${old} → ${p[key]}`);
    } else if (op === 5 && typeof old === "string") {
      p[key] = pick(["", old.slice(1), old + old, old.toUpperCase(), `${old}\u0000`, "x".repeat(5000), old.split("").reverse().join("")]);
      what.push(`${at}: string changed`);
    } else if (op === 6 && Array.isArray(old)) {
      const r = rand();
      if (r < 0.3) old.length = Math.floor(old.length / 2);
      else if (r < 0.6 && old.length > 0) old.push(clone(old[Math.floor(rand() * old.length)]!));
      else if (r < 0.8) old.reverse();
      else old.push(clone(pick(POOL)));
      what.push(`${at}: array changed`);
    } else if (op === 7 && old !== null && typeof old === "object" && !Array.isArray(old)) {
      const keys = Object.keys(old);
      if (keys.length > 0 && rand() < 0.5) {
        const k = pick(keys);
        (old as Record<string, Json>)[`${k}_`] = (old as Record<string, Json>)[k]!;
        delete (old as Record<string, Json>)[k];
        what.push(`${at}.${k} renamed`);
      } else {
        (old as Record<string, Json>)[pick(["extra", "__proto__", "constructor", "length", "0"])] = clone(pick(POOL));
        what.push(`${at}: key added`);
      }
    } else if (op === 8) {
      p[key] = deep(pick([50, 2000]));
      what.push(`${at} = deeply nested`);
    } else {
      p[key] = typeof old === "string" ? Number(old.length) : typeof old === "number" ? String(old) : Array.isArray(old) ? { ...old } : old === null ? 0 : typeof old === "object" ? Object.values(old) : String(old);
      what.push(`${at}: type changed`);
    }
  }
  return { value: root, what: what.join("; ") };
}

/** Byte-level damage to a file's text (truncation, flipped bytes, stray quotes/braces): for readers of whole files. */
export function mutateText(text: string, rand: () => number): { text: string; what: string } {
  const r = rand();
  if (r < 0.4) {
    const n = Math.floor(rand() * text.length);
    return { text: text.slice(0, n), what: `truncated to ${n}` };
  }
  const chars = [...text];
  const at = Math.floor(rand() * chars.length);
  chars[at] = ['"', "{", "}", "[", "]", ",", ":", "\\", "\u0000", "9", "-", "\ud800"][Math.floor(rand() * 12)]!;
  return { text: chars.join(""), what: `char ${at} replaced` };
}
