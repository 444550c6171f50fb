/**
 * How the webgpu backend talks to the device: one command encoder collects the compute passes and copies of
 * consecutive kernel calls, and is submitted only when a result is read (or every FLUSH_PASSES passes, so the GPU
 * starts while the CPU encodes more). A decode step therefore costs one submit and one readback (the logits).
 *
 * Ordering rule: queue.writeBuffer takes effect before any command still sitting in the open encoder, so data is
 * only ever written into FRESH buffers (uploads) and into the params arena, which is written right before its
 * submit. Each pass's parameters (a few u32) take one 256-byte slot of that arena.
 */
import { KernelInputError } from "../backend";
import { BUFFER_USAGE, type GpuBuffer, type GpuCommandEncoder, type GpuComputePipeline, type GpuDevice, MAP_MODE_READ } from "./webgpu-api";

const PARAM_SLOT_BYTES = 256; // minUniformBufferOffsetAlignment
const PARAM_SLOTS = 256;
const FLUSH_PASSES = 64;
/** The most workgroups one dispatch dimension may have (maxComputeWorkgroupsPerDimension's default). */
export const MAX_GROUPS_PER_DIM = 65535;

export interface ShaderSource {
  /** A unique name for the pipeline cache (include every specialisation baked into the code). */
  key: string;
  code: string;
}

export const STORAGE_USAGE = BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST;

/** f32 → its bits, for u32 param slots (shaders bitcast them back). */
export function f32Bits(v: number): number {
  const b = new Float32Array([v]);
  return new Uint32Array(b.buffer)[0]!;
}

/** Workgroup counts for `groups` workgroups spread over x (≤ 65535) and y; shaders rebuild the index as x + y·gridX. */
export function grid(groups: number): { x: number; y: number } {
  const x = Math.max(1, Math.min(groups, MAX_GROUPS_PER_DIM));
  return { x, y: Math.max(1, Math.ceil(groups / x)) };
}

export class GpuRuntime {
  private encoder: GpuCommandEncoder | null = null;
  private passes = 0;
  private readonly arena: GpuBuffer;
  private readonly arenaData = new Uint32Array((PARAM_SLOTS * PARAM_SLOT_BYTES) / 4);
  private slots = 0;
  private readonly pipelines = new Map<string, GpuComputePipeline>();
  /** Buffers whose handles are gone: destroyed after the next submit (an open encoder may still use them). */
  private readonly doomed: GpuBuffer[] = [];
  private error: string | null = null;
  disposed = false;

  constructor(readonly device: GpuDevice) {
    this.arena = device.createBuffer({ size: PARAM_SLOTS * PARAM_SLOT_BYTES, usage: BUFFER_USAGE.UNIFORM | BUFFER_USAGE.COPY_DST, label: "onebit params" });
    device.addEventListener("uncapturederror", (e) => {
      this.error ??= e.error.message;
    });
    void device.lost.then((info) => {
      if (!this.disposed) this.error ??= `device lost (${info.reason}): ${info.message}`;
    });
  }

  alive(what: string): void {
    if (this.disposed) throw new KernelInputError(`webgpu backend: ${what} after dispose()`);
  }

  /** A zeroed storage buffer (WebGPU zero-initialises new buffers). */
  buffer(bytes: number, label: string): GpuBuffer {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const max = this.device.limits.maxStorageBufferBindingSize ?? 134217728;
    if (size > max) throw new KernelInputError(`webgpu ${label}: ${size} bytes exceed this device's maxStorageBufferBindingSize ${max}`);
    return this.device.createBuffer({ size, usage: STORAGE_USAGE, label });
  }

  /** A fresh buffer holding `data` (written now, which is safe: nothing encoded refers to it yet). */
  upload(data: ArrayBufferView, label: string): GpuBuffer {
    const buf = this.buffer(data.byteLength, label);
    if (data.byteLength % 4 === 0) this.device.queue.writeBuffer(buf, 0, data);
    else {
      const padded = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
      padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      this.device.queue.writeBuffer(buf, 0, padded);
    }
    return buf;
  }

  private pipeline(shader: ShaderSource): GpuComputePipeline {
    let p = this.pipelines.get(shader.key);
    if (!p) {
      const module = this.device.createShaderModule({ code: shader.code, label: shader.key });
      void module.getCompilationInfo?.().then((info) => {
        for (const m of info.messages) if (m.type === "error") this.error ??= `WGSL ${shader.key}:${m.lineNum}:${m.linePos}: ${m.message}`;
      });
      p = this.device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" }, label: shader.key });
      this.pipelines.set(shader.key, p);
    }
    return p;
  }

  private open(): GpuCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  /**
   * Encode one compute pass: binding 0 is the params (u32 words, a uniform struct in the shader), bindings 1..n
   * the buffers, in order.
   */
  dispatch(shader: ShaderSource, params: readonly number[], buffers: readonly GpuBuffer[], groups: { x: number; y?: number; z?: number }): void {
    if (params.length > PARAM_SLOT_BYTES / 4) throw new Error(`webgpu ${shader.key}: ${params.length} params exceed one slot`);
    if (this.slots === PARAM_SLOTS) this.flush();
    const slot = this.slots++;
    this.arenaData.set(params, (slot * PARAM_SLOT_BYTES) / 4);
    const pipeline = this.pipeline(shader);
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.arena, offset: slot * PARAM_SLOT_BYTES, size: PARAM_SLOT_BYTES } },
        ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
      ],
    });
    const pass = this.open().beginComputePass({ label: shader.key });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(groups.x, groups.y ?? 1, groups.z ?? 1);
    pass.end();
    if (++this.passes >= FLUSH_PASSES) this.flush();
  }

  copy(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, bytes: number): void {
    if (bytes > 0) this.open().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Destroy a buffer once the work already encoded has been submitted. */
  release(buf: GpuBuffer): void {
    if (this.encoder) this.doomed.push(buf);
    else buf.destroy();
  }

  /** Submit everything encoded so far. */
  flush(): void {
    if (this.slots > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaData, 0, (this.slots * PARAM_SLOT_BYTES) / 4);
    if (this.encoder) this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.passes = 0;
    this.slots = 0;
    for (const b of this.doomed.splice(0)) b.destroy();
  }

  /** Bytes [offset, offset + bytes) of a buffer, after everything encoded before this call. */
  async read(src: GpuBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    this.alive("read");
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.device.createBuffer({ size, usage: BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST, label: "onebit readback" });
    this.copy(src, offset, staging, 0, size);
    this.flush();
    try {
      await staging.mapAsync(MAP_MODE_READ);
      const out = staging.getMappedRange().slice(0, bytes);
      staging.unmap();
      this.throwIfFailed();
      return out;
    } catch (e) {
      this.throwIfFailed();
      throw e;
    } finally {
      staging.destroy();
    }
  }

  /** A validation error or a lost device surfaces at the next read, named. */
  throwIfFailed(): void {
    if (this.error) {
      const e = this.error;
      this.error = null;
      throw new Error(`webgpu backend: the device reported: ${e}`);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.encoder = null;
    this.device.destroy();
  }
}
