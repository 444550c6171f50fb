/**
 * Histograms as a PNG, without a canvas library: bars rasterised into an RGB buffer, encoded with node:zlib.
 * (No text: the PNG is the picture; the terminal chart and SVG carry the labels.)
 */
import { deflateSync } from "node:zlib";
import type { Histogram } from "./histogram";

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "latin1");
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encode an RGB image (`rgb` of length width·height·3) as PNG bytes. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  if (rgb.length !== width * height * 3) throw new RangeError(`encodePng: rgb has ${rgb.length} bytes, expected ${width * height * 3}`);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0; // filter: none
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", new Uint8Array(0))]);
}

export function pngHistograms(histograms: Histogram[], width = 640, panelHeight = 140): Buffer {
  const height = Math.max(1, histograms.length) * panelHeight;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  const put = (x: number, y: number, r: number, g: number, b: number) => {
    const i = (y * width + x) * 3;
    rgb[i] = r;
    rgb[i + 1] = g;
    rgb[i + 2] = b;
  };
  const margin = 10;
  histograms.forEach((h, p) => {
    const top = p * panelHeight + margin;
    const plotH = panelHeight - 2 * margin;
    const max = Math.max(1, ...h.counts);
    const bw = (width - 2 * margin) / h.counts.length;
    h.counts.forEach((c, i) => {
      const bh = Math.round((c / max) * plotH);
      const x0 = Math.round(margin + i * bw);
      const x1 = Math.max(x0 + 1, Math.round(margin + (i + 1) * bw) - 1);
      for (let x = x0; x < x1; x++) for (let y = top + plotH - bh; y < top + plotH; y++) put(x, y, 59, 111, 182);
    });
    for (let x = margin; x < width - margin; x++) put(x, top + plotH, 40, 40, 40); // axis
  });
  return encodePng(width, height, rgb);
}
