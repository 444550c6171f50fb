/**
 * Input checks shared by every quantizer and packer. Errors name the argument and the expected value,
 * so a caller several layers up still learns which tensor was wrong.
 */
import { OnebitError } from "./onebit-error";

export class QuantInputError extends OnebitError {
  constructor(message: string) {
    super("QUANT_INPUT", message);
    this.name = "QuantInputError";
  }
}

export type Shape2D = readonly [rows: number, cols: number];

export function assertShape(name: string, shape: Shape2D): void {
  const [rows, cols] = shape;
  if (!Number.isInteger(rows) || rows <= 0 || !Number.isInteger(cols) || cols <= 0)
    throw new QuantInputError(`${name}: shape must be two positive integers [rows, cols], got [${rows}, ${cols}]`);
}

export function assertLength(name: string, data: ArrayLike<number>, expected: number, what = "elements"): void {
  if (data.length !== expected)
    throw new QuantInputError(`${name}: has ${data.length} ${what}, expected ${expected}`);
}

/** Quantizer statistics (max, mean) are meaningless with NaN or ±Infinity: refuse them with their index. */
export function assertFinite(name: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) throw new QuantInputError(`${name}: element ${i} is ${v}; expected a finite number`);
  }
}

export function assertPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new QuantInputError(`${name}: expected a positive integer, got ${v}`);
}

export function assertCodes(name: string, codes: ArrayLike<number>, min: number, max: number): void {
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (!Number.isInteger(c) || c < min || c > max)
      throw new QuantInputError(`${name}: element ${i} is ${c}; expected an integer in [${min}, ${max}]`);
  }
}
